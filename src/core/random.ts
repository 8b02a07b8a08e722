/**
 * The one seeded random generator of quantbook.
 *
 * Algorithm: xoshiro128** (Blackman and Vigna 2018) on four 32-bit words, seeded
 * through splitmix32 so that nearby seeds give unrelated streams. Same seed, same
 * numbers, on every platform: only 32-bit integer arithmetic (`Math.imul`, `>>>`)
 * is used, never `Math.random`.
 */

import { ConfigError } from './errors';

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Hashes a string label to a 32-bit integer (FNV-1a), for `Rng.fork`. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/**
 * Seeded pseudo-random generator (xoshiro128**).
 *
 * @example
 * const rng = new Rng(42);
 * rng.uniform(); // a number in [0, 1), the same one on every run with seed 42
 * rng.normal();  // standard normal draw
 * rng.fork('paths').int(10); // an independent stream derived from the seed and a label
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;
  /** The seed this generator was built from. */
  readonly seed: number;

  /**
   * @param seed - any finite integer (it is reduced modulo 2^32).
   * @throws ConfigError when `seed` is not a finite integer.
   */
  constructor(seed: number) {
    if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
      throw new ConfigError('seed must be a finite integer', { key: 'seed', value: seed });
    }
    this.seed = seed;
    const st = { s: (seed % TWO_POW_32) | 0 };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform double in the open interval (0, 1): never exactly 0, safe for logs. */
  uniformOpen(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return u;
  }

  /**
   * Uniform integer in [0, n), without modulo bias (rejection sampling).
   * @throws ConfigError when n is not an integer in [1, 2^32].
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new ConfigError('Rng.int bound must be an integer in [1, 2^32]', { value: n });
    }
    if (n === 1) return 0;
    // Rejection sampling: accept x below the largest multiple of n that fits.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /**
   * Standard normal draw (Marsaglia polar method; the second value of each pair
   * is kept for the next call).
   */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return u * f;
  }

  /** Exponential draw with the given rate (mean 1 / rate). */
  exponential(rate = 1): number {
    return -Math.log(this.uniformOpen()) / rate;
  }

  /** Student-t draw with `nu` degrees of freedom (normal over sqrt(chi2/nu)). */
  studentT(nu: number): number {
    const z = this.normal();
    return z / Math.sqrt(this.gamma(nu / 2, 2) / nu);
  }

  /** Gamma draw with shape k > 0 and scale theta (Marsaglia and Tsang 2000). */
  gamma(k: number, theta = 1): number {
    if (k < 1) {
      const u = this.uniformOpen();
      return this.gamma(k + 1, theta) * Math.pow(u, 1 / k);
    }
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniformOpen();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * theta;
    }
  }

  /** Bernoulli draw: true with probability p. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Fills `out` with standard normal draws and returns it. */
  fillNormal<T extends Float64Array | Float32Array>(out: T): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /**
   * An independent generator derived from this one's seed and a label. Forking
   * does not advance this generator, so adding a consumer elsewhere does not
   * change the numbers of existing ones.
   */
  fork(label: string): Rng {
    return new Rng((Math.imul(this.seed | 0, 0x9e3779b1) ^ hashLabel(label)) | 0);
  }
}

/**
 * Draws the index sequence of one stationary-bootstrap path (Politis and Romano 1994):
 * the first index uniform in [0, n); then at each step, with probability `1 / meanBlockLength`
 * a new block starts at a uniform index, else the next index follows (wrapping from n - 1 to 0).
 * Block lengths are geometric with mean `meanBlockLength`; `meanBlockLength = 1` is the iid
 * bootstrap. Draw order per path: `int(n)`, then per later step `uniform()` and, on a restart,
 * `int(n)` (callers' seeded numbers depend on it: keep it).
 *
 * @param n - length of the resampled series (>= 1).
 * @param meanBlockLength - mean block length in steps (>= 1).
 * @param rng - the generator; it advances.
 * @param out - filled with the indices, one per step; returned.
 * @throws ConfigError from `rng.int` when n is not a positive integer.
 * @example stationaryBootstrapIndices(100, 5, new Rng(1), new Int32Array(10)); // runs of consecutive indices
 */
export function stationaryBootstrapIndices(n: number, meanBlockLength: number, rng: Rng, out: Int32Array): Int32Array {
  const restart = 1 / meanBlockLength;
  let i = rng.int(n);
  for (let k = 0; k < out.length; k++) {
    if (k > 0) i = rng.uniform() < restart ? rng.int(n) : (i + 1) % n;
    out[k] = i;
  }
  return out;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
