/**
 * Benchmark of the data layer (`npm run bench:data`): 10 million 1-minute bars of 20 symbols
 * (US regular hours, about 1% of bars missing): load from Parquet, validate, fill gaps inside
 * sessions, resample to 30 minutes, session VWAP; and, when Debian's python3-pandas is installed,
 * the same pipeline in pandas (bench/data-pandas.py).
 *
 * Protocol (bench/lib/results.ts): each pipeline runs in a fresh process, quantbook and pandas
 * alternating, `--runs` times each (default 3); the tables give per-step medians with their range,
 * the peak resident memory of each side (the process high-water mark, VmHWM, over the run), and
 * `pandas / quantbook time` as the ratio of the median totals, with the range of the per-run
 * ratios (run r of one side against run r of the other). Results go to bench/results/data.md.
 * Goal (issue 20): pandas / quantbook >= 5x end to end, quantbook under 4 GB peak. A missed goal
 * is said on the last line; the exit status stays 0.
 *
 * Shared machines: polars runs its own thread pool (one thread per core unless
 * `POLARS_MAX_THREADS` says otherwise); the bench reports the setting and the polars threads it
 * counted in the child process (`--threads N` sets it for the quantbook runs). `--beside N` starts N busy processes (one core each) for the
 * whole measurement, to see the pipeline beside another job.
 *
 * Memory pages: the quantbook runs get glibc heap settings (node's and polars' allocator): polars'
 * Parquet reader decodes into buffers of 2 MiB + 8 KiB (one column of a row group), each a fresh
 * mmap below glibc's default limits (about 137k 4 KiB page faults reading the bench's file), so
 * the runs set the mmap threshold to glibc's largest (32 MiB), one arena and a 64 MiB heap pad:
 * those buffers come from one heap that grows 64 MiB at a time and reuses what is freed
 * (`--no-malloc`: the environment as it is). Measured on the 2-core VM (load average 7-9, 3
 * alternating runs): load 3.50 -> 1.22 s CPU, the pipeline 10.70 -> 7.72 s CPU (with huge pages).
 *
 * Neither side gets transparent huge pages unless `--hugepages` asks (then quantbook runs with
 * `glibc.malloc.hugetlb=1`, and numpy keeps its default, madvise on large arrays). On a VM whose
 * balloon reports free memory to the host (virtio-balloon free page reporting: memory free for
 * about 2 s goes back to the host, in blocks of 2 MiB and larger), a huge page always comes from
 * such a returned block, and its first touch costs about 2.3 s of kernel time per GB (a 1 GiB
 * test: 2.2-2.4 s first touch, 0.13 s re-touch), while 4 KiB pages come first from smaller free
 * blocks the host still backs (0.3 s per GiB while they last). Measured on 10M bars, 2-core VM,
 * load 1-6, the quantbook pipeline alone, 10 alternating pairs, right after another run or 4-5 s
 * later: CPU 3.3-5.7 s without huge pages, 5.4-7.8 s with (user 2.2-2.6 s either way; kernel
 * 0.9-3.2 s against 2.9-5.6 s). What is fastest depends on the machine: the results say what
 * each side used, and the CPU table shows the kernel time per step.
 *
 * Input fairness: quantbook reads the Parquet file (zstd); pandas has no Parquet reader here (no
 * pyarrow), so it reads the same columns from raw .npy files, its fastest input.
 * Generated input is cached under the OS temp folder, keyed by size.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pl from 'nodejs-polars';
import { fillGaps, loadBars, NYSE_HOLIDAYS, resample, simulateMarket, validateBars, withSessionVwap, type Bars, type SyntheticSymbol } from '../src/data';
import { benchArgs } from './lib/args';
import { formatSpread, machineInfo, reportChild, runFresh, spread, verdictLine, writeBenchResults, type Spread, type Variant } from './lib/results';

const args = benchArgs('npm run bench:data -- [options]', {
  bars: { default: 10_000_000, help: 'one-minute bars in all' },
  symbols: { default: 20, help: 'symbols' },
  runs: { default: 3, help: 'fresh-process runs of each pipeline, alternating' },
  pandas: { default: true, help: 'run the pandas pipeline too (--no-pandas skips it)' },
  beside: { default: 0, help: 'busy processes (one core each) running beside the measurement' },
  threads: { default: '', help: 'POLARS_MAX_THREADS for the quantbook runs (default: as set in the environment, else one per core)' },
  malloc: { default: true, help: 'run the quantbook side with GLIBC_TUNABLES glibc.malloc.mmap_threshold=32 MiB, arena_max=1 and top_pad=64 MiB (polars\' 2 MiB Parquet buffers from one heap that reuses them), each unless the environment sets it; --no-malloc leaves the environment as it is' },
  hugepages: { default: false, help: 'transparent huge pages on both sides: glibc.malloc.hugetlb=1 for quantbook, numpy\'s default (madvise) for pandas; without it numpy runs with NUMPY_MADVISE_HUGEPAGE=0 (see the module comment: on a VM with free page reporting, huge pages are the expensive ones)' },
  child: { default: '', help: 'internal: run one quantbook pipeline on this Parquet file and report' },
});
const DAYS = Math.ceil(args.bars / args.symbols / 390 / 0.99);
const GOAL_RATIO = 5;
const GOAL_PEAK_MB = 4096;
/** glibc malloc settings of the quantbook runs (see the module comment). */
const MALLOC_TUNABLES: Record<string, number> = {
  'glibc.malloc.mmap_threshold': 32 * 2 ** 20,
  'glibc.malloc.arena_max': 1,
  'glibc.malloc.top_pad': 64 * 2 ** 20,
};

/**
 * GLIBC_TUNABLES for the quantbook runs: the environment's, plus each of {@link MALLOC_TUNABLES}
 * (unless `--no-malloc`) and, with `--hugepages`, `glibc.malloc.hugetlb=1` that it does not set.
 */
function glibcTunables(): string | undefined {
  const now = process.env.GLIBC_TUNABLES;
  const wanted: Record<string, number> = { ...(args.malloc ? MALLOC_TUNABLES : {}), ...(args.hugepages ? { 'glibc.malloc.hugetlb': 1 } : {}) };
  const added = Object.entries(wanted).filter(([name]) => !now?.includes(`${name}=`)).map(([name, value]) => `${name}=${value}`);
  return [...(now ? [now] : []), ...added].join(':') || undefined;
}

/** Environment of the pandas runs: numpy's huge pages off unless `--hugepages` (or the environment says otherwise). */
function numpyEnv(): NodeJS.ProcessEnv {
  return args.hugepages || process.env.NUMPY_MADVISE_HUGEPAGE !== undefined ? {} : { NUMPY_MADVISE_HUGEPAGE: '0' };
}

/** What each side does about huge pages, for the results. */
function memoryPages(tunables: string | undefined, pandas: boolean): string {
  let thp = 'unknown';
  try {
    thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').trim();
  } catch {
    // not Linux, or no THP
  }
  const numpy = pandas
    ? spawnSync('/usr/bin/python3', ['-c', 'from numpy.core import multiarray as m; print(m._get_madvise_hugepage())'], { encoding: 'utf8', env: { ...process.env, ...numpyEnv() } }).stdout.trim() || 'unknown'
    : 'not run';
  return `memory pages: transparent huge pages ${thp}; quantbook runs with GLIBC_TUNABLES=${tunables ?? 'unset'}; numpy madvise hugepage: ${numpy}`;
}

function peakReset(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}
function peakMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Threads of this process named as polars names its pool's workers (`polars-0`, `polars-1`, ...). */
function polarsThreads(): number {
  let n = 0;
  for (const task of readdirSync('/proc/self/task')) {
    try {
      if (/^polars-\d+$/.test(readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim())) n++;
    } catch {
      // the thread ended while listed
    }
  }
  return n;
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
  const dir = join(tmpdir(), `quantbook-bench-data-${args.bars}-${args.symbols}`);
  const parquet = join(dir, 'bars.parquet');
  if (existsSync(join(dir, 'done'))) return { parquet, npyDir: dir, rows: Number(readFileSync(join(dir, 'done'), 'utf8')) };
  mkdirSync(dir, { recursive: true });
  console.log(`generating ${args.symbols} symbols x ${DAYS} sessions of 1-minute bars into ${dir} (once) ...`);
  const symbols: SyntheticSymbol[] = Array.from({ length: args.symbols }, (_, i) => ({ symbol: `S${String(i).padStart(2, '0')}`, price: 20 + 10 * i, annualVol: 0.2 + 0.02 * i, volume: 5000 }));
  const start = Date.UTC(2019, 0, 2);
  // Weekdays only: DAYS trading days need about DAYS * 7/5 calendar days (+ holidays).
  const m = simulateMarket({ seed: 1, session: 'us-rth', barMs: 60_000, start, end: start + Math.ceil(DAYS * 1.45) * 86_400_000, symbols, missingBarProbability: 0.01 });
  const perSymbol = Math.floor(args.bars / args.symbols);
  const series = m.series.map((s) => ({ ...s, ts: s.ts.subarray(0, perSymbol), open: s.open.subarray(0, perSymbol), high: s.high.subarray(0, perSymbol),
    low: s.low.subarray(0, perSymbol), close: s.close.subarray(0, perSymbol), volume: s.volume.subarray(0, perSymbol) }));
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
  /** CPU seconds of the whole process (every thread) in user and kernel mode over the step, and its minor page faults. */
  userS?: number;
  sysS?: number;
  faults?: number;
}

/** One pipeline run, as a child reports it: per-step timings, the total, the peak, and the results both libraries must agree on. */
interface Run {
  steps: Step[];
  total: number;
  peakMb: number;
  check: Record<string, number>;
  threads?: string;
}

function runQuantbook(parquet: string): Run {
  const steps: Step[] = [];
  const time = <T>(name: string, f: () => T): T => {
    peakReset();
    const r0 = process.resourceUsage();
    const t = performance.now();
    const out = f();
    const seconds = (performance.now() - t) / 1000;
    const r1 = process.resourceUsage();
    steps.push({ step: name, seconds, peakMb: peakMb(), userS: (r1.userCPUTime - r0.userCPUTime) / 1e6,
      sysS: (r1.systemCPUTime - r0.systemCPUTime) / 1e6, faults: r1.minorPageFault - r0.minorPageFault });
    return out;
  };
  const t0 = performance.now();
  let bars: Bars | undefined = time('load', () => loadBars(parquet));
  const valid = time('validate', () => validateBars(bars!));
  const filled = time('fill gaps', () => fillGaps(valid.bars, 'us-rth', { barMs: valid.intervalMs }));
  bars = undefined;
  const res = time('resample 30m', () => resample(filled.bars, '30m', { session: 'us-rth', barMs: valid.intervalMs }));
  const vwap = time('session VWAP', () => withSessionVwap(filled.bars, 'us-rth'));
  const total = (performance.now() - t0) / 1000;
  const setting = process.env.POLARS_MAX_THREADS;
  return {
    steps,
    total,
    // Each step's high-water mark starts from the memory held when it began, so the largest is the run's peak.
    peakMb: Math.max(...steps.map((s) => s.peakMb)),
    check: {
      filled: filled.filled,
      rows: filled.bars.height,
      resampled: res.bars.height,
      volume: res.bars.getColumn('volume').sum(),
      lastVwap: vwap.getColumn('vwap').get(vwap.height - 1) as number,
    },
    threads: `POLARS_MAX_THREADS=${setting ?? 'unset'}, ${polarsThreads()} polars threads counted (${cpus().length} cores)`,
  };
}

function hasPandas(): boolean {
  if (!args.pandas || !existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import pandas, numpy'], { stdio: 'ignore' }).status === 0;
}

/** Per-step spreads, the total's and the peak's, and the runs' common results (they must agree run to run). */
interface Summary {
  steps: { step: string; seconds: Spread; peakMb: Spread; userS?: Spread; sysS?: Spread; faults?: Spread }[];
  total: Spread;
  peakMb: Spread;
  check: Record<string, number>;
}

function summarize(name: string, runs: Run[]): Summary {
  const check = runs[0].check;
  if (runs.some((r) => JSON.stringify(r.check) !== JSON.stringify(check))) throw new Error(`${name}: results differ between runs: ${runs.map((r) => JSON.stringify(r.check)).join(' ')}`);
  return {
    steps: runs[0].steps.map((s, i) => ({ step: s.step, seconds: spread(runs.map((r) => r.steps[i].seconds)),
      peakMb: spread(runs.map((r) => r.steps[i].peakMb)), ...cpuSpreads(runs.map((r) => r.steps[i])) })),
    total: spread(runs.map((r) => r.total)),
    peakMb: spread(runs.map((r) => r.peakMb)),
    check,
  };
}

/** Spreads of a step's CPU seconds and faults over the runs, when every run measured them (older children did not). */
function cpuSpreads(steps: Step[]): { userS?: Spread; sysS?: Spread; faults?: Spread } {
  if (steps.some((s) => s.userS === undefined || s.sysS === undefined || s.faults === undefined)) return {};
  return { userS: spread(steps.map((s) => s.userS!)), sysS: spread(steps.map((s) => s.sysS!)), faults: spread(steps.map((s) => s.faults!)) };
}

/**
 * A markdown table of both sides' CPU seconds per step (every thread of the process, user and
 * kernel mode, medians) and minor page faults: the kernel time is mostly the zeroing of fresh
 * pages, whose cost depends on the machine (on a VM whose freed memory goes back to the host,
 * first touches cost several times the copy they serve), and CPU time, not wall time, is what a
 * busy neighbour takes away. Empty when a side did not measure them.
 */
function cpuTable(sides: { name: string; s: Summary }[]): string[] {
  if (sides.some((x) => x.s.steps.some((st) => st.userS === undefined))) return [];
  const head = `| step | ${sides.map((x) => `${x.name} CPU s user / sys | ${x.name} minor faults`).join(' | ')} |`;
  const rule = `| --- | ${sides.map(() => '---: | ---:').join(' | ')} |`;
  const rows = sides[0].s.steps.map((st, i) => `| ${st.step} | ${sides.map((x) => {
    const s = x.s.steps[i];
    return `${s.userS!.median.toFixed(2)} / ${s.sysS!.median.toFixed(2)} | ${s.faults!.median.toFixed(0)}`;
  }).join(' | ')} |`);
  const sum = (x: Summary, k: 'userS' | 'sysS'): number => x.steps.reduce((a, st) => a + st[k]!.median, 0);
  const total = `| **sum of medians** | ${sides.map((x) => `**${sum(x.s, 'userS').toFixed(2)} / ${sum(x.s, 'sysS').toFixed(2)}** | `).join(' | ')} |`;
  return ['', ...[head, rule, ...rows, total]];
}

/** A markdown table of both sides' steps: median seconds (range) and median peak MB. */
function stepTable(sides: { name: string; s: Summary }[]): string[] {
  const head = `| step | ${sides.map((x) => `${x.name} s, median (range) | ${x.name} peak MB`).join(' | ')} |`;
  const rule = `| --- | ${sides.map(() => '---: | ---:').join(' | ')} |`;
  const rows = sides[0].s.steps.map((st, i) => `| ${st.step} | ${sides.map((x) => `${formatSpread(x.s.steps[i].seconds)} | ${x.s.steps[i].peakMb.median.toFixed(0)}`).join(' | ')} |`);
  const total = `| **total** | ${sides.map((x) => `**${formatSpread(x.s.total)}** | **${x.s.peakMb.median.toFixed(0)}** (max ${x.s.peakMb.max.toFixed(0)})`).join(' | ')} |`;
  return [head, rule, ...rows, total];
}

/** Starts `n` busy processes, one core each, until stopped. */
function startBeside(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

if (args.child) {
  // Child mode: a fresh process, so peak memory is the pipeline's alone, not the generator's.
  reportChild(runQuantbook(args.child) as unknown as Record<string, unknown>);
} else {
  const input = prepareInput();
  const la0 = loadavg();
  const header = [
    `${input.rows.toLocaleString('en-US')} one-minute bars, ${args.symbols} symbols, US RTH sessions; ${(readFileSync(input.parquet).length / 2 ** 20).toFixed(0)} MiB Parquet`,
    'input: quantbook reads the Parquet file; pandas (no pyarrow here) reads the same columns from raw .npy files, its fastest input',
    `protocol: ${args.runs} fresh-process runs per side, alternating; medians with (min-max, n); peak RSS = the process high-water mark (VmHWM) over the run`,
    `load average at the start: ${la0.map((x) => x.toFixed(2)).join(' ')}${args.beside > 0 ? `; ${args.beside} busy process(es) started beside the bench` : ''}`,
  ];
  console.log(`bench:data  ${header.join('\n')}`);
  const pandas = hasPandas();
  const tunables = glibcTunables();
  header.push(memoryPages(tunables, pandas));
  const env: NodeJS.ProcessEnv = { ...(args.threads ? { POLARS_MAX_THREADS: args.threads } : {}) };
  if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
  const variants: Variant[] = [{ name: 'quantbook', command: process.execPath, args: [...process.execArgv, __filename, '--child', input.parquet], env }];
  if (pandas) variants.push({ name: 'pandas', command: '/usr/bin/python3', args: [resolve(__dirname, 'data-pandas.py'), input.npyDir, JSON.stringify(NYSE_HOLIDAYS)], env: numpyEnv() });
  const beside = startBeside(args.beside);
  let runs: Record<string, Record<string, unknown>[]>;
  try {
    runs = runFresh(variants, args.runs, (variant, run, rec) => console.log(`  ${variant} run ${run}: ${(rec.total as number).toFixed(2)} s, peak ${(rec.peakMb as number).toFixed(0)} MB`));
  } finally {
    for (const p of beside) p.kill();
  }
  const qbRuns = runs.quantbook as unknown as Run[];
  const qb = summarize('quantbook', qbRuns);
  const sides = [{ name: 'quantbook', s: qb }];
  const body = [...header.map((h) => `- ${h}`), `- polars (quantbook side): ${qbRuns[0].threads ?? 'unknown'}`, ''];
  let ratio: Spread | undefined;
  let ratioOfMedians = Number.NaN;
  if (pandas) {
    const pdRuns = runs.pandas as unknown as Run[];
    const pd = summarize('pandas', pdRuns);
    const version = spawnSync('/usr/bin/python3', ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' }).stdout.trim();
    sides.push({ name: `pandas ${version}`, s: pd });
    ratioOfMedians = pd.total.median / qb.total.median;
    ratio = spread(qbRuns.map((r, i) => pdRuns[i].total / r.total));
    body.push(...stepTable(sides), ...cpuTable(sides), '', '| result | quantbook | pandas |', '| --- | ---: | ---: |', ...Object.keys(qb.check).map((k) => `| ${k} | ${qb.check[k]} | ${pd.check[k]} |`), '');
    body.push(`totals per run, s: quantbook ${qbRuns.map((r) => r.total.toFixed(2)).join(' ')}; pandas ${pdRuns.map((r) => r.total.toFixed(2)).join(' ')}`, '');
    body.push(`**pandas / quantbook time: ${ratioOfMedians.toFixed(1)}x** (ratio of the median totals; per-run ratios ${ratio.min.toFixed(1)}-${ratio.max.toFixed(1)}x)`);
  } else {
    body.push(...stepTable(sides), ...cpuTable(sides), '', 'pandas not run (--no-pandas, or no /usr/bin/python3 with pandas): no comparison');
  }
  const peakOk = qb.peakMb.max < GOAL_PEAK_MB;
  const verdict = [
    ratio
      ? verdictLine('pandas / quantbook >= 5x end to end, under 4 GB peak', ratioOfMedians >= GOAL_RATIO && peakOk, `${ratioOfMedians.toFixed(1)}x (per run ${ratio.min.toFixed(1)}-${ratio.max.toFixed(1)}x), quantbook peak ${qb.peakMb.max.toFixed(0)} MB`)
      : verdictLine('pandas / quantbook >= 5x end to end, under 4 GB peak', false, `no pandas comparison; quantbook ${formatSpread(qb.total, 2, ' s')}, peak ${qb.peakMb.max.toFixed(0)} MB`),
  ];
  const path = writeBenchResults('data', 'bench:data: the data pipeline on 10M bars, quantbook vs pandas', body, verdict, machineInfo());
  console.log(['', ...body, '', `written: ${path}`, '', ...verdict].join('\n'));
}
