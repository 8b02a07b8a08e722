/**
 * Quantile binning of a feature matrix, the way XGBoost's `hist` method does it: per
 * feature, cut points at quantiles of the (float32) values; a value's bin is the index of
 * the first cut strictly above it, so "bin <= b" is exactly "x < cuts[b]", the comparison
 * XGBoost makes at prediction time. Missing values (NaN) get the reserved code
 * {@link MISSING_BIN} and never count towards the cuts.
 */
import { ConfigError } from '../core/errors';
import { Rng } from '../core/random';

/** Bin code of a missing value (NaN). Value bins are 0..MAX_VALUE_BINS-1. */
export const MISSING_BIN = 255;
/** Most value bins per feature: one of the 256 byte codes is kept for missing values. */
export const MAX_VALUE_BINS = 255;
/** Rows sampled per feature to place interior cuts when there are more (the min and max always use every row). */
export const CUT_SAMPLE_ROWS = 1 << 18;

/** Cut points of every feature. */
export interface BinCuts {
  /** Number of features. */
  numFeature: number;
  /** `cuts[f]`: increasing float32 upper bounds of feature f's bins; the last one is a sentinel above the maximum. */
  cuts: Float32Array[];
  /** Smallest non-missing value of each feature (NaN when the feature is all missing). */
  minValues: Float32Array;
}

/** A row-major matrix of bin codes, one byte per cell. */
export interface BinnedMatrix {
  numRow: number;
  numFeature: number;
  /** Bytes per row: `numFeature` rounded up to a multiple of 4 (padding cells hold {@link MISSING_BIN}). */
  stride: number;
  /** `bins[r * stride + f]`; {@link MISSING_BIN} for NaN. */
  bins: Uint8Array;
}

/**
 * Cut points per feature from the quantiles of `x` (row-major, `numFeature` columns, NaN = missing).
 *
 * A feature with at most `maxBin` distinct values gets one bin per value (cuts at the values
 * above the minimum, as XGBoost places them); otherwise `maxBin` bins at equal-count ranks of
 * the sorted values, from all rows or, above {@link CUT_SAMPLE_ROWS} rows, a seeded sample
 * of them. The last cut is the sentinel `max + (|max| + 1e-5)` (XGBoost's rule).
 *
 * @param maxBin - bins per feature, 2..255 (default 255: XGBoost's 256 less the missing code).
 * @param seed - seed of the row sample used on large inputs (default 0).
 * @throws ConfigError when `maxBin` is out of range or `x.length` is not a multiple of `numFeature`.
 * @example quantileCuts(new Float32Array([1, 2, 3, NaN]), 1).cuts[0] // Float32Array [2, 3, 6.00001]
 */
export function quantileCuts(x: Float32Array, numFeature: number, maxBin = MAX_VALUE_BINS, seed = 0): BinCuts {
  if (!Number.isInteger(maxBin) || maxBin < 2 || maxBin > MAX_VALUE_BINS) {
    throw new ConfigError(`maxBin must be an integer in 2..${MAX_VALUE_BINS}`, { key: 'maxBin', value: maxBin });
  }
  if (!Number.isInteger(numFeature) || numFeature < 1 || x.length % numFeature !== 0) {
    throw new ConfigError('feature matrix length is not a multiple of the number of features', { key: 'numFeature', value: numFeature });
  }
  const n = x.length / numFeature;
  const rng = new Rng(seed);
  let sampleRows: Uint32Array | null = null;
  if (n > CUT_SAMPLE_ROWS) {
    // One seeded sample of rows serves every feature: partial Fisher-Yates, then sorted for locality.
    const perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = 0; i < CUT_SAMPLE_ROWS; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    sampleRows = perm.slice(0, CUT_SAMPLE_ROWS).sort();
  }
  const cuts: Float32Array[] = [];
  const minValues = new Float32Array(numFeature);
  const buf = new Float32Array(sampleRows ? sampleRows.length : n);
  const keys = new Uint32Array(buf.length);
  const tmp = new Uint32Array(buf.length);
  for (let f = 0; f < numFeature; f++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let r = 0; r < n; r++) {
      const v = x[r * numFeature + f]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === Infinity) {
      // All missing: one bin, never split.
      minValues[f] = NaN;
      cuts.push(new Float32Array([Math.fround(1e-5)]));
      continue;
    }
    minValues[f] = lo;
    let m = 0;
    if (sampleRows) {
      for (let i = 0; i < sampleRows.length; i++) {
        const v = x[sampleRows[i]! * numFeature + f]!;
        if (v === v) buf[m++] = v;
      }
    } else {
      for (let r = 0; r < n; r++) {
        const v = x[r * numFeature + f]!;
        if (v === v) buf[m++] = v;
      }
    }
    const sorted = sortFloat32(buf.subarray(0, m), keys, tmp);
    const out: number[] = [];
    // Distinct values above the minimum (at most maxBin of them count as "few").
    let distinct = 0;
    for (let i = 0; i < m && distinct <= maxBin; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
    if (distinct <= maxBin && !sampleRows) {
      for (let i = 1; i < m; i++) if (sorted[i] !== sorted[i - 1]) out.push(sorted[i]!);
    } else {
      for (let j = 1; j < maxBin; j++) {
        const v = sorted[Math.min(m - 1, Math.floor((j * m) / maxBin))]!;
        if (v > lo && (out.length === 0 || v > out[out.length - 1]!)) out.push(v);
      }
    }
    out.push(Math.fround(hi + (Math.abs(hi) + 1e-5)));
    cuts.push(Float32Array.from(out));
  }
  return { numFeature, cuts, minValues };
}

/**
 * Bin codes of `x` under `cuts`: the index of the first cut strictly above the value (values
 * beyond the last cut go to the last bin), {@link MISSING_BIN} for NaN.
 * @throws ConfigError when `x.length` is not a multiple of `cuts.numFeature`.
 * @example
 * const bm = binMatrix(new Float32Array([1, 2, NaN]), quantileCuts(new Float32Array([1, 2, 3]), 1));
 * [bm.bins[0], bm.bins[bm.stride], bm.bins[2 * bm.stride]] // [0, 1, 255] (stride 4: rows padded to 4 bytes)
 */
export function binMatrix(x: Float32Array, cuts: BinCuts): BinnedMatrix {
  const F = cuts.numFeature;
  if (x.length % F !== 0) {
    throw new ConfigError('feature matrix length is not a multiple of the number of features', { key: 'numFeature', value: F });
  }
  const n = x.length / F;
  const stride = (F + 3) & ~3;
  const bins = new Uint8Array(n * stride);
  if (stride !== F) bins.fill(MISSING_BIN);
  // Cuts padded with +Infinity to 256 entries: an 8-step branch-free binary search.
  const padded = new Float32Array(256);
  for (let f = 0; f < F; f++) {
    const c = cuts.cuts[f]!;
    const last = c.length - 1;
    padded.fill(Infinity);
    padded.set(c);
    for (let r = 0; r < n; r++) {
      const i = r * stride + f;
      const v = x[r * F + f]!;
      if (v !== v) {
        bins[i] = MISSING_BIN;
        continue;
      }
      // a = number of cuts <= v, i.e. the index of the first cut > v (upper_bound).
      let a = 0;
      a += padded[a + 127]! <= v ? 128 : 0;
      a += padded[a + 63]! <= v ? 64 : 0;
      a += padded[a + 31]! <= v ? 32 : 0;
      a += padded[a + 15]! <= v ? 16 : 0;
      a += padded[a + 7]! <= v ? 8 : 0;
      a += padded[a + 3]! <= v ? 4 : 0;
      a += padded[a + 1]! <= v ? 2 : 0;
      a += padded[a]! <= v ? 1 : 0;
      bins[i] = a > last ? last : a;
    }
  }
  return { numRow: n, numFeature: F, stride, bins };
}

/**
 * Sorts float32 values (no NaN) ascending by a 3-pass LSD radix sort of their order-preserving
 * 32-bit keys; V8's TypedArray sort is several times slower on the millions of values binning sorts.
 */
function sortFloat32(v: Float32Array, keys: Uint32Array, tmp: Uint32Array): Float32Array {
  const m = v.length;
  const bits = new Uint32Array(v.buffer, v.byteOffset, m);
  for (let i = 0; i < m; i++) {
    const b = bits[i]!;
    // Negative floats: flip all bits; positive: flip the sign bit. -0 and +0 stay adjacent.
    keys[i] = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  }
  let src = keys;
  let dst = tmp;
  const count = new Uint32Array(2048);
  for (let shift = 0; shift < 32; shift += 11) {
    count.fill(0);
    for (let i = 0; i < m; i++) count[(src[i]! >>> shift) & 2047]!++;
    let sum = 0;
    for (let k = 0; k < 2048; k++) {
      const c = count[k]!;
      count[k] = sum;
      sum += c;
    }
    for (let i = 0; i < m; i++) {
      const k = src[i]!;
      dst[count[(k >>> shift) & 2047]!++] = k;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i = 0; i < m; i++) {
    const k = src[i]!;
    bits[i] = k & 0x80000000 ? (k & 0x7fffffff) >>> 0 : ~k >>> 0;
  }
  return v;
}
