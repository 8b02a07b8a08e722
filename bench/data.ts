/**
 * Benchmark of the data layer (`npm run bench:data`): 10 million 1-minute bars of 20 symbols
 * (US regular hours, about 1% of bars missing): load from Parquet, validate, fill gaps inside
 * sessions, resample to 30 minutes, session VWAP. Prints wall time and peak resident memory
 * per step and, when Debian's python3-pandas is installed, the same pipeline in pandas with the
 * ratio `pandas / quantbook time: N.Nx`.
 *
 * Input fairness: quantbook reads the Parquet file (zstd); pandas has no Parquet reader here (no
 * pyarrow), so it reads the same columns from raw .npy files, its fastest input.
 *
 * Options: `--bars N` (default 10_000_000), `--symbols N` (default 20), `--no-pandas`, `--repeat N`
 * (default 1: run both pipelines N times, alternating, each in a fresh process, and print per-step
 * medians and the ratio of the median totals; for machines shared with other work).
 * Generated input is cached under the OS temp folder, keyed by size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pl from 'nodejs-polars';
import { fillGaps, loadBars, NYSE_HOLIDAYS, resample, simulateMarket, validateBars, withSessionVwap, type Bars, type SyntheticSymbol } from '../src/data';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const BARS = arg('bars', 10_000_000);
const SYMBOLS = arg('symbols', 20);
const REPEAT = arg('repeat', 1);
const DAYS = Math.ceil(BARS / SYMBOLS / 390 / 0.99);

function peakReset(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}
function peakMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function writeNpy(path: string, arr: Float64Array | BigInt64Array | Int8Array): void {
  const descr = arr instanceof Float64Array ? '<f8' : arr instanceof BigInt64Array ? '<i8' : '|i1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${arr.length},), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength)]));
}

/** Generates the input once: a Parquet file for quantbook, .npy columns for pandas. */
function prepareInput(): { parquet: string; npyDir: string; rows: number } {
  const dir = join(tmpdir(), `quantbook-bench-data-${BARS}-${SYMBOLS}`);
  const parquet = join(dir, 'bars.parquet');
  if (existsSync(join(dir, 'done'))) return { parquet, npyDir: dir, rows: Number(readFileSync(join(dir, 'done'), 'utf8')) };
  mkdirSync(dir, { recursive: true });
  console.log(`generating ${SYMBOLS} symbols x ${DAYS} sessions of 1-minute bars into ${dir} (once) ...`);
  const symbols: SyntheticSymbol[] = Array.from({ length: SYMBOLS }, (_, i) => ({ symbol: `S${String(i).padStart(2, '0')}`, price: 20 + 10 * i, annualVol: 0.2 + 0.02 * i, volume: 5000 }));
  const start = Date.UTC(2019, 0, 2);
  // Weekdays only: DAYS trading days need about DAYS * 7/5 calendar days (+ holidays).
  const m = simulateMarket({ seed: 1, session: 'us-rth', barMs: 60_000, start, end: start + Math.ceil(DAYS * 1.45) * 86_400_000, symbols, missingBarProbability: 0.01 });
  const perSymbol = Math.floor(BARS / SYMBOLS);
  const series = m.series.map((s) => ({ ...s, ts: s.ts.subarray(0, perSymbol), open: s.open.subarray(0, perSymbol), high: s.high.subarray(0, perSymbol), low: s.low.subarray(0, perSymbol), close: s.close.subarray(0, perSymbol), volume: s.volume.subarray(0, perSymbol) }));
  const n = series.reduce((a, s) => a + s.ts.length, 0);
  const cat = (k: 'open' | 'high' | 'low' | 'close' | 'volume' | 'ts'): Float64Array => {
    const out = new Float64Array(n);
    let off = 0;
    for (const s of series) {
      out.set(s[k], off);
      off += s[k].length;
    }
    return out;
  };
  const ts = cat('ts');
  const sym = new Int8Array(n);
  let off = 0;
  series.forEach((s, i) => {
    sym.fill(i, off, off + s.ts.length);
    off += s.ts.length;
  });
  const bars = pl.DataFrame([
    pl.Series('ts', ts, pl.Float64).cast(pl.Int64).cast(pl.Datetime('ms', 'UTC')),
    pl.Series('symbol', Array.from(sym, (c) => symbols[c].symbol), pl.String),
    ...(['open', 'high', 'low', 'close', 'volume'] as const).map((c) => pl.Series(c, cat(c), pl.Float64)),
  ]);
  bars.writeParquet(parquet, { compression: 'zstd' });
  writeNpy(join(dir, 'ts.npy'), BigInt64Array.from(ts, (t) => BigInt(t)));
  writeNpy(join(dir, 'sym.npy'), sym);
  for (const c of ['open', 'high', 'low', 'close', 'volume'] as const) writeNpy(join(dir, `${c}.npy`), cat(c));
  writeFileSync(join(dir, 'symbols.json'), JSON.stringify(symbols.map((s) => s.symbol)));
  writeFileSync(join(dir, 'done'), String(n));
  return { parquet, npyDir: dir, rows: n };
}

interface Step {
  step: string;
  seconds: number;
  peakMb: number;
}

/** One pipeline run: per-step timings, the total, and the results both libraries must agree on. */
interface Run {
  steps: Step[];
  total: number;
  check: Record<string, number>;
}

function runQuantbook(parquet: string): Run {
  const steps: Step[] = [];
  const time = <T>(name: string, f: () => T): T => {
    peakReset();
    const t = performance.now();
    const out = f();
    steps.push({ step: name, seconds: (performance.now() - t) / 1000, peakMb: peakMb() });
    return out;
  };
  const t0 = performance.now();
  let bars: Bars | undefined = time('load', () => loadBars(parquet));
  const valid = time('validate', () => validateBars(bars!));
  const filled = time('fill gaps', () => fillGaps(valid.bars, 'us-rth'));
  bars = undefined;
  const res = time('resample 30m', () => resample(filled.bars, '30m', { session: 'us-rth' }));
  const vwap = time('session VWAP', () => withSessionVwap(filled.bars, 'us-rth'));
  const total = (performance.now() - t0) / 1000;
  return {
    steps,
    total,
    check: {
      filled: filled.filled,
      rows: filled.bars.height,
      resampled: res.bars.height,
      volume: res.bars.getColumn('volume').sum(),
      lastVwap: vwap.getColumn('vwap').get(vwap.height - 1) as number,
    },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Per-step medians over runs (wall time and peak RSS), the median total, and the runs' common results. */
function summarize(runs: Run[]): Run {
  const check = runs[0].check;
  if (runs.some((r) => JSON.stringify(r.check) !== JSON.stringify(check))) throw new Error(`results differ between runs: ${runs.map((r) => JSON.stringify(r.check)).join(' ')}`);
  const steps = runs[0].steps.map((s, i) => ({ step: s.step, seconds: median(runs.map((r) => r.steps[i].seconds)), peakMb: median(runs.map((r) => r.steps[i].peakMb)) }));
  return { steps, total: median(runs.map((r) => r.total)), check };
}

function table(title: string, r: { steps: Step[]; total: number }): void {
  console.log(`\n${title}`);
  console.log(`  ${'step'.padEnd(14)}${'wall s'.padStart(9)}${'peak RSS MB'.padStart(13)}`);
  for (const s of r.steps) console.log(`  ${s.step.padEnd(14)}${s.seconds.toFixed(2).padStart(9)}${s.peakMb.toFixed(0).padStart(13)}`);
  console.log(`  ${'total'.padEnd(14)}${r.total.toFixed(2).padStart(9)}${Math.max(...r.steps.map((s) => s.peakMb)).toFixed(0).padStart(13)}`);
}

function hasPandas(): boolean {
  if (process.argv.includes('--no-pandas') || !existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import pandas, numpy'], { stdio: 'ignore' }).status === 0;
}

const pipelineAt = process.argv.indexOf('--pipeline');
if (pipelineAt > 0) {
  // Child mode: a fresh process, so peak memory is the pipeline's alone, not the generator's.
  process.stdout.write(`${JSON.stringify(runQuantbook(process.argv[pipelineAt + 1]))}\n`);
} else {
  const input = prepareInput();
  console.log(`bench:data  ${input.rows.toLocaleString('en-US')} one-minute bars, ${SYMBOLS} symbols, US RTH sessions; ${(readFileSync(input.parquet).length / 2 ** 20).toFixed(0)} MiB Parquet`);
  console.log('input: quantbook reads the Parquet file; pandas (no pyarrow here) reads the same columns from raw .npy files, its fastest input');
  console.log('peak RSS: the process high-water mark during each step (reset before each step), in a fresh process per library');
  const pandas = hasPandas();
  // Runs alternate between the libraries, so load from other processes falls on both alike.
  const qbRuns: Run[] = [];
  const pdRuns: Run[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const child = execFileSync(process.execPath, [...process.execArgv, __filename, '--pipeline', input.parquet], { encoding: 'utf8', maxBuffer: 1 << 24 });
    qbRuns.push(JSON.parse(child.trim().split('\n').pop()!) as Run);
    if (!pandas) continue;
    const out = execFileSync('/usr/bin/python3', [resolve(__dirname, 'data-pandas.py'), input.npyDir, JSON.stringify(NYSE_HOLIDAYS)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    pdRuns.push(JSON.parse(out.trim().split('\n').pop()!) as Run);
  }
  const runsNote = REPEAT > 1 ? `, median of ${REPEAT} runs` : '';
  const qb = summarize(qbRuns);
  table(`quantbook (nodejs-polars + typed-array kernels${runsNote})`, qb);
  if (pandas) {
    const version = execFileSync('/usr/bin/python3', ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' }).trim();
    const pd = summarize(pdRuns);
    table(`pandas ${version} (same pipeline${runsNote})`, pd);
    console.log('\nresults, quantbook vs pandas:');
    for (const k of Object.keys(qb.check)) console.log(`  ${k.padEnd(10)} ${String(qb.check[k]).padStart(22)} ${String(pd.check[k]).padStart(22)}`);
    if (REPEAT > 1) console.log(`\ntotals per run, s: quantbook ${qbRuns.map((r) => r.total.toFixed(2)).join(' ')}; pandas ${pdRuns.map((r) => r.total.toFixed(2)).join(' ')}`);
    console.log(`\npandas / quantbook time: ${(pd.total / qb.total).toFixed(1)}x`);
  } else {
    console.log('\npandas not available (/usr/bin/python3 with pandas): no comparison');
  }
}
