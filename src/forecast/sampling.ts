/**
 * Next-token sampling from logits: temperature, then top-k, then top-p (nucleus),
 * as in Hugging Face's generate and Chronos / Kronos. A kernel on typed arrays.
 */
import { ConfigError } from '../core/errors';
import type { Rng } from '../core/random';
import type { SamplingOptions } from './types';

/**
 * Sampler defaults: plain softmax sampling (T = 1, no top-k, no top-p). `quantbook forecast`
 * uses top-p 0.9 and 10 paths per batch instead: why is said at `FORECAST_DEFAULTS` (cli/forecastConfig.ts).
 */
export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 1, topK: 0, topP: 1, samplesPerBatch: 256, kvCache: 'auto' };

/**
 * The random stream of one sampled path: forked from the request's generator by window and path
 * index only (label `"<window>/<path>"`), so a path's draws do not depend on how paths are batched
 * into model runs, nor on how many paths are asked for (path k of 100 is path k of 1,000).
 * Every token-sampling family (autoregressive, Chronos, Kronos, Toto) draws its paths from these.
 * @param base the generator seeded with the request's seed.
 * @param window index of the window in the request.
 * @param path index of the path within its window.
 * @example pathRng(new Rng(0), 2, 7).uniform() // the same number whatever the batch size
 */
export function pathRng(base: Rng, window: number, path: number): Rng {
  return base.fork(`${window}/${path}`);
}

/**
 * Validates sampler settings.
 * @throws ConfigError naming the setting when temperature < 0, topK is not a non-negative
 *   integer, topP is outside (0, 1], or samplesPerBatch is not a positive integer.
 * @example checkSampling({ ...DEFAULT_SAMPLING, topP: 0.9 }).topP // 0.9
 */
export function checkSampling(s: SamplingOptions): SamplingOptions {
  if (!(s.temperature >= 0) || !Number.isFinite(s.temperature)) {
    throw new ConfigError('temperature must be a finite number >= 0 (0 = greedy)', { key: 'temperature', value: s.temperature });
  }
  if (!Number.isInteger(s.topK) || s.topK < 0) throw new ConfigError('topK must be an integer >= 0 (0 = off)', { key: 'topK', value: s.topK });
  if (!(s.topP > 0 && s.topP <= 1)) throw new ConfigError('topP must be in (0, 1] (1 = off)', { key: 'topP', value: s.topP });
  if (!Number.isInteger(s.samplesPerBatch) || s.samplesPerBatch < 1) {
    throw new ConfigError('samplesPerBatch must be a positive integer', { key: 'samplesPerBatch', value: s.samplesPerBatch });
  }
  if (!['auto', 'cache', 'recompute'].includes(s.kvCache)) {
    throw new ConfigError("kvCache must be 'auto', 'cache' or 'recompute'", { key: 'kvCache', value: s.kvCache });
  }
  return s;
}

/**
 * A reusable sampler over a vocabulary of `vocab` tokens; `banned` tokens
 * (the tokenizer's missing token) never come out.
 */
export class TokenSampler {
  private readonly probs: Float64Array;
  private readonly order: Int32Array;
  private readonly allowed: Uint8Array;
  private readonly heap: Int32Array;
  /** Top-p draws whose cut had to be decided by sorting the whole vocabulary (see sampleFiltered). */
  fullSorts = 0;
  /** Unfiltered draws whose token the bounded exp could not decide, so the exact probabilities did (see drawBounded). */
  exactDraws = 0;

  constructor(
    readonly vocab: number,
    private readonly opts: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>,
    banned: readonly number[] = [],
  ) {
    this.probs = new Float64Array(vocab);
    this.order = new Int32Array(vocab);
    this.heap = new Int32Array(vocab);
    this.allowed = new Uint8Array(vocab).fill(1);
    for (const t of banned) if (t >= 0 && t < vocab) this.allowed[t] = 0;
  }

  /**
   * Draws one token from `logits[offset .. offset + vocab)`.
   *
   * p_i ∝ exp(l_i / T) over allowed tokens; top-k keeps the k largest; top-p then keeps
   * the shortest prefix of the rest, by decreasing probability, whose mass reaches p
   * (at least one token). T = 0 returns the argmax.
   * @example new TokenSampler(3, { temperature: 0, topK: 0, topP: 1 }).sample(new Float32Array([0, 2, 1]), 0, rng) // 1
   */
  sample(logits: Float32Array, offset: number, rng: Rng): number {
    const { vocab, probs, allowed } = this;
    const { temperature, topK, topP } = this.opts;
    // x / 1 is x: the division is skipped at T = 1, the same numbers.
    const scale = temperature === 1 ? 0 : temperature;
    const filtered = (topK > 0 && topK < vocab) || topP < 1;
    let u = -1;
    if (!filtered && temperature > 0) {
      u = rng.uniform();
      const token = this.drawBounded(logits, offset, scale, u);
      if (token >= 0) return token;
      this.exactDraws++;
    }
    let maxLogit = -Infinity;
    let argmax = -1;
    for (let i = 0; i < vocab; i++) {
      const l = logits[offset + i];
      if (allowed[i] && l > maxLogit) {
        maxLogit = l;
        argmax = i;
      }
    }
    if (argmax < 0) throw new ConfigError('no token can be sampled: every logit is -Infinity, NaN or banned', { key: 'logits' });
    if (temperature === 0) return argmax;
    if (!filtered) return drawIndex(probs, this.exactProbs(logits, offset, maxLogit, scale), u);
    return this.sampleFiltered(this.exactProbs(logits, offset, maxLogit, scale), topK, topP, rng);
  }

  /** probs[i] = e^((l_i - max) / T) with Math.exp's bits (0 for banned tokens); returns their sum in id order. */
  private exactProbs(logits: Float32Array, offset: number, maxLogit: number, scale: number): number {
    const { vocab, probs, allowed } = this;
    let total = 0;
    for (let i = 0; i < vocab; i++) {
      let p = 0;
      if (allowed[i]) {
        const x = logits[offset + i] - maxLogit;
        p = expAsMathExp(scale === 0 ? x : x / scale);
      }
      probs[i] = p;
      total += p;
    }
    return total;
  }

  /**
   * The token `drawIndex(exact probabilities, their sum, u)` returns, found with {@link expBounded} in place of
   * Math.exp's bits, or -1 when the error bound cannot tell (then the caller runs the exact draw; `exactDraws`
   * counts those). The exact draw walks x = u S - p_0 - p_1 - ... in id order and returns the first token where x < 0.
   * Here p_i = e^(l_i / T) without subtracting the largest logit first: that scales every p_i, S and x by the same
   * e^(max / T), which changes no decision (the bound below is relative to S), and saves the pass finding the maximum.
   * One pass keeps the running sums c_i = p_0 + ... + p_i (in `probs`; S = c_(V-1)), and a binary search finds the
   * first token k with u S - c_k < 0 (c does not decrease, so that is where a walk stops; p_k > 0 there).
   * With every p_i within a relative EXP_BOUND_ERROR of the exact one (scaled), S, u S and each c_i are within
   * EXP_BOUND_ERROR S of the exact walk's, and the roundings of either side (here V sums, the product u S and one
   * subtraction; there a sum and a subtraction per token, each within 2^-53 of a value at most S) add at most
   * 2 (V + 1) 2^-53 S more: so where u S - c_(k-1) is at least `margin` and u S - c_k is below -margin, the exact
   * walk's x is >= 0 before k and < 0 after it (both walks only decrease), and returns k too. A sum that overflows
   * (logits near 700 T) fails the check: the exact draw decides. A token-by-token walk after the sums took about a
   * fifth of a draw (256 tokens); eight search steps replace it.
   */
  private drawBounded(logits: Float32Array, offset: number, scale: number, u: number): number {
    const { vocab, probs, allowed } = this;
    let total = 0;
    for (let i = 0; i < vocab; i++) {
      if (allowed[i]) {
        const x = logits[offset + i];
        const d = scale === 0 ? x : x / scale;
        if (!(d >= -700 && d <= 700)) return -1; // an infinity, NaN, or beyond expBounded's range: the exact draw decides
        total += expBounded(d);
      }
      probs[i] = total;
    }
    const margin = 1.01 * (2 * EXP_BOUND_ERROR + 4 * (vocab + 1) * 2 ** -53) * total;
    const target = u * total;
    let lo = 0;
    let hi = vocab - 1;
    if (!(probs[hi] > target)) return -1; // u S rounded up to S, or no token allowed: the exact draw decides
    // The first k with probs[k] > target: probs[hi] > target throughout, and probs[lo - 1] <= target.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (probs[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    const before = lo === 0 ? target : target - probs[lo - 1];
    return before >= margin && target - probs[lo] < -margin ? lo : -1;
  }

  /**
   * Draws from the top-k / top-p filtered distribution without sorting the vocabulary:
   * a binary max-heap over the token ids, ordered by (probability descending, id ascending),
   * the order the full sort used, yields tokens one by one, so only the kept prefix is
   * ever ordered (top-k: k pops; top-p: pops until the nucleus mass is reached).
   *
   * Exactly the draw of {@link sampleFilteredBySort} for every input and seed: the kept
   * prefix, its sums and the draw run over the same tokens in the same order. The one sum
   * that needs the whole order, top-p's total mass in decreasing order, is bounded by the
   * total summed in id order (recursive summation of V non-negative terms errs by at most
   * (V - 1) 2^-53 of the sum, for either order), so the cut is decided without it unless a
   * prefix mass falls inside that error band (ties at the cut, or mass exactly on the
   * threshold); then the full sort decides. `fullSorts` counts those draws.
   */
  private sampleFiltered(total: number, topK: number, topP: number, rng: Rng): number {
    const { probs, order, vocab } = this;
    const heap = this.heap;
    for (let i = 0; i < vocab; i++) heap[i] = i;
    let size = vocab;
    for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(heap, probs, i, size);
    const pop = (): number => {
      const top = heap[0];
      heap[0] = heap[--size];
      siftDown(heap, probs, 0, size);
      return top;
    };
    if (topK > 0 && topK < vocab) {
      // The top k in order, then top-p within them: everything the old path summed is here.
      let kept = 0;
      for (let r = 0; r < topK; r++) kept += probs[(order[r] = pop())];
      let keep = topK;
      if (topP < 1) {
        let mass = 0;
        for (let r = 0; r < topK; r++) {
          mass += probs[order[r]];
          if (mass >= topP * kept) {
            keep = r + 1;
            break;
          }
        }
        kept = 0;
        for (let r = 0; r < keep; r++) kept += probs[order[r]];
      }
      return drawPrefix(probs, order, keep, kept > 0 ? kept : total, rng.uniform());
    }
    // Top-p over the whole vocabulary: the threshold topP * S, S the sum in decreasing order,
    // lies between topP * (total - err) and topP * (total + err).
    const err = 4 * vocab * 2 ** -53 * total;
    const low = topP * (total - err);
    const high = topP * (total + err);
    let mass = 0;
    let keep = 0;
    while (keep < vocab) {
      const t = pop();
      order[keep++] = t;
      mass += probs[t];
      if (mass >= low) break;
    }
    if (mass < high) {
      // The cut is at this token or later, depending on S itself: decide with the full order.
      this.fullSorts++;
      return this.sampleFilteredBySort(total, topK, topP, rng);
    }
    let kept = 0;
    for (let r = 0; r < keep; r++) kept += probs[order[r]];
    return drawPrefix(probs, order, keep, kept > 0 ? kept : total, rng.uniform());
  }

  /** The reference path: sorts every token id by (probability descending, id ascending). */
  private sampleFilteredBySort(total: number, topK: number, topP: number, rng: Rng): number {
    const { probs, order, vocab } = this;
    for (let i = 0; i < vocab; i++) order[i] = i;
    order.sort((a, b) => probs[b] - probs[a] || a - b);
    let keep = topK > 0 ? Math.min(topK, vocab) : vocab;
    let kept = 0;
    for (let r = 0; r < keep; r++) kept += probs[order[r]];
    if (topP < 1) {
      let mass = 0;
      for (let r = 0; r < keep; r++) {
        mass += probs[order[r]];
        if (mass >= topP * kept) {
          keep = r + 1;
          break;
        }
      }
      kept = 0;
      for (let r = 0; r < keep; r++) kept += probs[order[r]];
    }
    return drawPrefix(probs, order, keep, kept > 0 ? kept : total, rng.uniform());
  }
}

/** Heap order: higher probability first, then lower id. */
function siftDown(heap: Int32Array, probs: Float64Array, i: number, size: number): void {
  const x = heap[i];
  const px = probs[x];
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    let pc = probs[heap[c]];
    if (c + 1 < size) {
      const p2 = probs[heap[c + 1]];
      if (p2 > pc || (p2 === pc && heap[c + 1] < heap[c])) {
        c++;
        pc = p2;
      }
    }
    if (pc > px || (pc === px && heap[c] < x)) {
      heap[i] = heap[c];
      i = c;
    } else break;
  }
  heap[i] = x;
}

/** Token drawn from the first `keep` of `order` with probability proportional to probs, by inverse CDF at u * mass. */
function drawPrefix(probs: Float64Array, order: Int32Array, keep: number, mass: number, u: number): number {
  let x = u * mass;
  for (let r = 0; r < keep; r++) {
    x -= probs[order[r]];
    if (x < 0) return order[r];
  }
  return order[keep - 1];
}

/** Index drawn with probability weights[i] / total, by inverse CDF at u in [0, 1). */
function drawIndex(weights: Float64Array, total: number, u: number): number {
  let x = u * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] > 0) {
      last = i;
      x -= weights[i];
      if (x < 0) return i;
    }
  }
  return last;
}

// fdlibm's exp (e_exp.c), which V8 runs as Math.exp (base::ieee754::exp): argument reduction
// x = k ln2 + r (ln2 split in hi and lo parts), a degree-5 rational approximation on r, then 2^k.
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;
const P1 = 1.66666666666666019037e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.65339022054652515390e-6;
const P5 = 4.13813679705723846039e-8;
/** 2^k at k + 1024, for the k of |x| < 700 (all normal numbers: multiplying by one is exact). */
const POW2 = Float64Array.from({ length: 2048 }, (_, i) => 2 ** (i - 1024));

/**
 * e^x with the same bits as `Math.exp(x)` (fdlibm's algorithm, which V8 runs for Math.exp), in
 * JavaScript so the JIT inlines it into the sampler's loop instead of calling out per token
 * (about 7 instead of 9 ns a token). The three branches and their bounds are fdlibm's, compared
 * on the high word of |x| there: 0.5 ln2 is 0x3FD62E43 00000000 as a bound, 1.5 ln2 0x3FF0A2B2 00000000,
 * 2^-28 0x3E300000 00000000. Outside |x| < 700 (overflow, underflow, NaN) it returns Math.exp(x).
 * `tests/forecast/sampling.test.ts` compares it with Math.exp bit for bit.
 * @example expAsMathExp(-1.5) === Math.exp(-1.5) // true
 */
export function expAsMathExp(x: number): number {
  if (!(x > -700 && x < 700)) return Math.exp(x);
  const ax = x < 0 ? -x : x;
  let c: number;
  let t: number;
  if (ax < 0.3465735912322998) {
    if (ax < 3.725290298461914e-9) return 1 + x;
    t = x * x;
    c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    return 1 - ((x * c) / (c - 2) - x);
  }
  let hi: number;
  let lo: number;
  let k: number;
  if (ax < 1.0397205352783203) {
    if (x === 1) return Math.E; // fdlibm's special case: the reduction would miss e's last bit
    k = x < 0 ? -1 : 1;
    hi = x - k * LN2_HI;
    lo = k * LN2_LO;
  } else {
    k = (INV_LN2 * x + (x < 0 ? -0.5 : 0.5)) | 0; // C's truncating cast
    hi = x - k * LN2_HI;
    lo = k * LN2_LO;
  }
  const r = hi - lo;
  t = r * r;
  c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  return (1 - (lo - (r * c) / (2 - c) - hi)) * POW2[k + 1024];
}

/** Relative error bound of {@link expBounded} against Math.exp on [-700, 700]: the degree-3 Taylor remainder on
 * |r| <= ln2 / 128, e^(ln2 / 128) (ln2 / 128)^4 / 4! = 3.6e-11, plus the table's and Math.exp's last bits and the
 * reduction's roundings (under 1e-13: k ln2 / 64 is within 2^-53 of up to 700), rounded up. */
export const EXP_BOUND_ERROR = 1e-10;
/** 2^(j / 64), j = 0..63. */
const POW2_64THS = Float64Array.from({ length: 64 }, (_, j) => 2 ** (j / 64));
const SIXTYFOUR_OVER_LN2 = 64 / 0.6931471805599453;
const LN2_OVER_64 = 0.6931471805599453 / 64;

/**
 * e^d for d in [-700, 700] within a relative EXP_BOUND_ERROR (1e-10) of Math.exp: d = k ln2 / 64 + r with
 * |r| <= ln2 / 128, e^d = 2^floor(k / 64) 2^((k mod 64) / 64) e^r from two tables and a degree-3 Taylor polynomial of
 * e^r. No division and no branch; the sampler's plain draws use it where the bound decides the token (the degree-7
 * polynomial on |r| <= ln2 / 2 before it, within 2e-8, made a draw of 256 tokens about a fifth slower). `tests/forecast/sampling.test.ts` checks the bound.
 * @example Math.abs(expBounded(-3) / Math.exp(-3) - 1) < EXP_BOUND_ERROR // true
 */
export function expBounded(d: number): number {
  const k = (d * SIXTYFOUR_OVER_LN2 + (d < 0 ? -0.5 : 0.5)) | 0; // the nearest integer (| 0 truncates toward zero), |k| < 2^17
  const r = d - k * LN2_OVER_64;
  return (1 + r * (1 + r * (0.5 + r * (1 / 6)))) * POW2_64THS[k & 63] * POW2[(k >> 6) + 1024];
}
