/**
 * Dumps the training series of the shipped models:
 * - closes of many series from the project's own seeded synthetic market (src/data/synthetic),
 *   with volatility level, GARCH clustering, jump size, bar length and regime durations varied
 *   per series, so the models see volatility clustering and regime shifts;
 * - the recorded real bars of `../shared/data/real` (REAL_TRAIN below), each on its bar grid
 *   with missing bars as NaN (never filled). Whole symbols in REAL_HELD_OUT are not written at
 *   all: they are the held-out symbols the model cards are scored on (`scripts/model-skill.ts`).
 *   The last `--real-val-share` of every written real series is validation (train.py never
 *   samples training windows from it).
 *
 * Writes OUT (a float64 .npy of shape [series, bars]), OUT with `_real.npy` (the real series
 * concatenated, float64, 1-D) and OUT with .json: the generator settings of every series and
 * the offsets, lengths and train/validation split of each real series, which
 * models/train/train.py copies into the cards.
 *
 * Usage: tsx scripts/dump-training-series.ts OUT.npy [--series 600] [--bars 4096] [--seed 20240601]
 *   [--real-val-share 0.2] [--no-real]
 */
import { resolve } from 'node:path';
import { loadGridSeries } from '../src/cli/eval';
import { OutputBatch } from '../src/core/output';
import { Rng } from '../src/core/random';
import { DEFAULT_REGIMES, syntheticSeries } from '../src/data/synthetic';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A .npy (format 1.0) header for little-endian float64 of the given shape. */
function npyHeader(shape: number[]): Buffer {
  let dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.length === 1 ? `${shape[0]},` : shape.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}

/** Real files trained on (relative to ../shared/data/real); the last share of each is validation. */
const REAL_TRAIN = [
  'crypto-5m/ADA_BTC-5m.feather',
  'crypto-5m/ETC_BTC-5m.feather',
  'crypto-5m/NXT_BTC-5m.feather',
  'crypto-5m/TRX_BTC-5m.feather',
  'crypto-1m/XRP_ETH-1m.feather',
  'perp/XRP_USDT_USDT-5m-futures.feather',
  'a-share-5m.csv',
];
/**
 * Held-out symbols, never written: ETH_BTC (and UNITTEST_BTC, its copy, with the UNITTEST_BTC
 * 1-minute and 30-minute files, the same pair at other times), LTC_BTC, XLM_BTC.
 */
const REAL_HELD_OUT = ['crypto-5m/ETH_BTC', 'crypto-5m/UNITTEST_BTC', 'crypto-5m/LTC_BTC', 'crypto-5m/XLM_BTC', 'crypto-1m/UNITTEST_BTC-1m', 'crypto-1m/UNITTEST_BTC-30m'];

const SESSION_FILES = new Set(['a-share-5m.csv']);

interface RealPart {
  file: string;
  symbol: string;
  offset: number;
  length: number;
  trainBars: number;
  missingBars: number;
}

function dumpReal(valShare: number): { data: Float64Array; parts: RealPart[] } {
  const root = resolve(__dirname, '..', '..', 'shared', 'data', 'real');
  const parts: RealPart[] = [];
  const chunks: Float64Array[] = [];
  let offset = 0;
  for (const file of REAL_TRAIN) {
    for (const s of loadGridSeries(resolve(root, file))) {
      // A session market's closed hours are not missing bars: its bars are kept in order, the
      // overnight and lunch gaps become one-bar moves (the grid is 24x7, so they show as NaN).
      const closes = SESSION_FILES.has(file) ? s.closes.filter((c) => !Number.isNaN(c)) : s.closes;
      const missingBars = SESSION_FILES.has(file) ? 0 : s.missingBars;
      parts.push({ file, symbol: s.symbol, offset, length: closes.length, trainBars: Math.floor(closes.length * (1 - valShare)), missingBars });
      chunks.push(closes);
      offset += closes.length;
    }
  }
  const data = new Float64Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { data, parts };
}

function main(): void {
  const out = process.argv[2];
  if (!out || !out.endsWith('.npy')) throw new Error('usage: tsx scripts/dump-training-series.ts OUT.npy [--series N] [--bars T] [--seed S]');
  const nSeries = arg('series', 600);
  const bars = arg('bars', 4096);
  const seed = arg('seed', 20240601);
  const rng = new Rng(seed);
  const closes = new Float64Array(nSeries * bars);
  const settings = [];
  for (let s = 0; s < nSeries; s++) {
    const alpha = 0.02 + 0.1 * rng.uniform();
    const persistence = 0.9 + 0.09 * rng.uniform();
    // Regime spells from a few hours to a few days of bars, so shifts happen inside a series.
    const durationScale = 0.02 + 0.5 * rng.uniform();
    const opts = {
      seed: seed + 1 + s,
      n: bars,
      barMs: rng.uniform() < 0.5 ? 60_000 : 300_000,
      // Low prices on the generator's 1e-6 tick give coarse, often-flat returns, as in thin altcoin pairs.
      price: Math.exp(Math.log(0.002) + rng.uniform() * Math.log(5e5)),
      annualVol: 0.15 + 1.35 * rng.uniform(),
      garch: { alpha, beta: persistence - alpha },
      jumpSize: 2 + 8 * rng.uniform(),
      regimes: DEFAULT_REGIMES.map((r) => ({ ...r, meanDurationDays: r.meanDurationDays * durationScale })),
    };
    const series = syntheticSeries(opts);
    closes.set(series.close, s * bars);
    settings.push({ ...opts, regimes: undefined, regimeDurationScale: durationScale });
  }
  // The .npy and its .json are renamed into place together, after both were written.
  const outputs = new OutputBatch();
  outputs.write(out, Buffer.concat([npyHeader([nSeries, bars]), Buffer.from(closes.buffer)]));
  const valShare = arg('real-val-share', 0.2);
  const real = process.argv.includes('--no-real') ? null : dumpReal(valShare);
  if (real) outputs.write(out.replace(/\.npy$/, '_real.npy'), Buffer.concat([npyHeader([real.data.length]), Buffer.from(real.data.buffer)]));
  const meta = {
    source: 'quantbook synthetic market (src/data/synthetic, syntheticSeries), 24x7, DEFAULT_REGIMES with scaled durations',
    dumpSeed: seed,
    series: nSeries,
    bars,
    ranges: { annualVol: [0.15, 1.5], garchAlpha: [0.02, 0.12], garchPersistence: [0.9, 0.99], jumpSize: [2, 10], barMs: [60_000, 300_000],
      price: [0.002, 1000], regimeDurationScale: [0.02, 0.52] },
    perSeries: settings,
    ...(real
      ? { real: { source: '../shared/data/real (recorded bars, see its README), closes on each bar grid, missing bars NaN', validationShare: valShare, heldOutSymbols: REAL_HELD_OUT, series: real.parts } }
      : {}),
  };
  try {
    outputs.write(out.replace(/\.npy$/, '.json'), JSON.stringify(meta));
    outputs.commit();
  } finally {
    outputs.abort();
  }
  process.stdout.write(`wrote ${out}: ${nSeries} series x ${bars} bars${real ? `; ${real.parts.length} real series, ${real.data.length} bars` : ''}\n`);
}

main();
