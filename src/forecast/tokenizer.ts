/**
 * The return tokenizer of autoregressive cards (`scaledLogReturn`): closes to
 * token ids and sampled tokens back to prices. Kernels on typed arrays; the same
 * arithmetic as models/train/data.py, so training and inference agree.
 */
import type { AutoregressiveCard } from './card';

type TokenizerSpec = AutoregressiveCard['tokenizer'];

/** A tokenized context: ids of its one-bar returns, the scale and the reference close. */
export interface TokenizedContext {
  /** One token per return: `closes.length - 1` ids (missing returns get the missing token). */
  ids: Int32Array;
  /** s: RMS of the observed one-bar log returns, floored at the card's `scaleFloor`. */
  scale: number;
  /** Last observed close: the price that sampled returns compound from. */
  lastClose: number;
}

/**
 * Tokenizes a window of closes: r_t = log(c_t / c_{t-1}), s = sqrt(mean r_t^2) over
 * observed returns (at least `scaleFloor`), token = bin of r_t / s among `binEdges`
 * (values beyond the outer edges go to the end bins); a return with a NaN or
 * non-positive close on either side gets `missingToken`.
 * @example tokenizeCloses(new Float64Array([100, 101, 100]), spec).ids.length // 2
 */
export function tokenizeCloses(closes: Float64Array, spec: TokenizerSpec): TokenizedContext {
  const n = closes.length - 1;
  const returns = new Float64Array(Math.max(n, 0));
  let sumSq = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const a = closes[i];
    const b = closes[i + 1];
    const r = a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b) ? Math.log(b / a) : NaN;
    returns[i] = r;
    if (!Number.isNaN(r)) {
      sumSq += r * r;
      count++;
    }
  }
  const scale = Math.max(count > 0 ? Math.sqrt(sumSq / count) : 0, spec.scaleFloor);
  const ids = new Int32Array(Math.max(n, 0));
  for (let i = 0; i < n; i++) ids[i] = Number.isNaN(returns[i]) ? spec.missingToken : binOf(returns[i] / scale, spec.binEdges);
  let lastClose = NaN;
  for (let i = closes.length - 1; i >= 0; i--) {
    if (closes[i] > 0 && Number.isFinite(closes[i])) {
      lastClose = closes[i];
      break;
    }
  }
  return { ids, scale, lastClose };
}

/**
 * Bin index of a scaled value: i with edges[i] <= z < edges[i+1], clamped to the end bins.
 * @example binOf(0.1, [-1, 0, 1]) // 1
 */
export function binOf(z: number, edges: readonly number[]): number {
  const bins = edges.length - 1;
  if (!(z >= edges[1])) return 0;
  if (z >= edges[bins - 1]) return bins - 1;
  let lo = 1;
  let hi = bins - 1; // invariant: edges[lo] <= z < edges[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= z) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Scaled value each token decodes to: the centre of its bin; NaN for the missing
 * token and any id outside the bins.
 * @example binCentres([-1, 0, 1]) // Float64Array [-0.5, 0.5]
 */
export function binCentres(edges: readonly number[]): Float64Array {
  const out = new Float64Array(edges.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * (edges[i] + edges[i + 1]);
  return out;
}

/**
 * Turns sampled token ids of one path into closes: c_h = lastClose * exp(s * sum_{j<=h} centre(id_j)).
 * Writes `ids.length` values into `out` from `offset`.
 * @example decodePath([2], new Float64Array([-1, 0, 1]), 0.01, 100, out, 0) // out[0] = 100 * exp(0.01)
 */
export function decodePath(
  ids: ArrayLike<number>,
  centres: Float64Array,
  scale: number,
  lastClose: number,
  out: Float64Array,
  offset: number,
): void {
  let logReturn = 0;
  for (let h = 0; h < ids.length; h++) {
    logReturn += scale * centres[ids[h]];
    out[offset + h] = lastClose * Math.exp(logReturn);
  }
}
