/**
 * Dumps the training series of the shipped models: closes of many series from the
 * project's own seeded synthetic market (src/data/synthetic), with volatility level,
 * GARCH clustering, jump size, bar length and regime durations varied per series, so
 * the models see volatility clustering and regime shifts. No third-party data.
 *
 * Writes OUT (a float64 .npy of shape [series, bars]) and OUT with .json: the
 * generator settings of every series, which models/train/train.py copies into the cards.
 *
 * Usage: tsx scripts/dump-training-series.ts OUT.npy [--series 600] [--bars 4096] [--seed 20240601]
 */
import { OutputBatch } from '../src/core/output';
import { Rng } from '../src/core/random';
import { DEFAULT_REGIMES, syntheticSeries } from '../src/data/synthetic';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A .npy (format 1.0) header for little-endian float64 of the given shape. */
function npyHeader(shape: number[]): Buffer {
  let dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
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
  const meta = {
    source: 'quantbook synthetic market (src/data/synthetic, syntheticSeries), 24x7, DEFAULT_REGIMES with scaled durations',
    dumpSeed: seed,
    series: nSeries,
    bars,
    ranges: { annualVol: [0.15, 1.5], garchAlpha: [0.02, 0.12], garchPersistence: [0.9, 0.99], jumpSize: [2, 10], barMs: [60_000, 300_000], price: [0.002, 1000], regimeDurationScale: [0.02, 0.52] },
    perSeries: settings,
  };
  try {
    outputs.write(out.replace(/\.npy$/, '.json'), JSON.stringify(meta));
    outputs.commit();
  } finally {
    outputs.abort();
  }
  process.stdout.write(`wrote ${out}: ${nSeries} series x ${bars} bars\n`);
}

main();
