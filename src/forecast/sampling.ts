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

  constructor(
    readonly vocab: number,
    private readonly opts: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>,
    banned: readonly number[] = [],
  ) {
    this.probs = new Float64Array(vocab);
    this.order = new Int32Array(vocab);
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
    let total = 0;
    for (let i = 0; i < vocab; i++) {
      const p = allowed[i] ? Math.exp((logits[offset + i] - maxLogit) / temperature) : 0;
      probs[i] = p;
      total += p;
    }
    const filtered = (topK > 0 && topK < vocab) || topP < 1;
    if (!filtered) return drawIndex(probs, total, rng.uniform());
    return this.sampleFiltered(total, topK, topP, rng);
  }

  private sampleFiltered(total: number, topK: number, topP: number, rng: Rng): number {
    const { probs, order, vocab } = this;
    for (let i = 0; i < vocab; i++) order[i] = i;
    // Sorting 256..4096 entries per draw is cheap next to the model step; ties keep id order.
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
    let u = rng.uniform() * (kept > 0 ? kept : total);
    for (let r = 0; r < keep; r++) {
      u -= probs[order[r]];
      if (u < 0) return order[r];
    }
    return order[keep - 1];
  }
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
