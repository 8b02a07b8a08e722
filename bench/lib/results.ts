/**
 * Honest bench numbers: medians of several fresh-process runs with their spread, the machine
 * they ran on, and a results file per bench (`bench/results/<bench>.md`) that the README quotes.
 *
 * Protocol: the bench's parent process runs each variant (e.g. quantbook and pandas) in a fresh
 * child process, alternating variants run after run, so a change in machine load hits both sides
 * alike. A child prints one line `@@bench {json}` with its measurements; `runFresh` collects them.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../src/core/output';

/** Median and range of a sample. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/**
 * Median (the mean of the two middle values for even n), minimum and maximum.
 * @throws Error when `xs` is empty.
 * @example spread([3, 1, 2]) // { median: 2, min: 1, max: 3, n: 3 }
 */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error('spread of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
}

/** `1.23 (1.10-1.41, n=3)` with `digits` decimals. */
export function formatSpread(x: Spread, digits = 2, unit = ''): string {
  return `${x.median.toFixed(digits)}${unit} (${x.min.toFixed(digits)}-${x.max.toFixed(digits)}${unit}, n=${x.n})`;
}

/** A child process's report: one line on stdout. */
export function reportChild(measurements: Record<string, unknown>): void {
  process.stdout.write(`@@bench ${JSON.stringify(measurements)}\n`);
}

export interface Variant {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs every variant `runs` times in fresh processes, alternating (A B A B ...), and returns each
 * variant's list of `@@bench` records. Child stderr passes through; a child that fails or prints no
 * record throws, naming the variant and run.
 */
export function runFresh(variants: readonly Variant[], runs: number, onRun?: (variant: string, run: number,
  rec: Record<string, unknown>) => void): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let r = 0; r < runs; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const p = spawnSync(v.command, v.args, { encoding: 'utf8', env: { ...process.env, ...v.env }, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
      const line = (p.stdout ?? '').split('\n').find((l) => l.startsWith('@@bench '));
      if (p.status !== 0 || !line) throw new Error(`${v.name} run ${r + 1}: exit ${p.status}${p.error ? ` (${p.error.message})` : ''}${line ? '' : ', no @@bench line'}`);
      const rec = JSON.parse(line.slice(8)) as Record<string, unknown>;
      out[v.name].push(rec);
      onRun?.(v.name, r + 1, rec);
    }
  }
  return out;
}

/** What the numbers ran on. */
export interface MachineInfo {
  date: string;
  commit: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  loadAverage: [number, number, number];
}

/** The machine, commit (with `+dirty` for uncommitted changes) and load average now. */
export function machineInfo(): MachineInfo {
  const git = (args: string[]): string => spawnSync('git', args, { encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? '+dirty' : '';
  const la = loadavg();
  return {
    date: new Date().toISOString(),
    commit: commit + dirty,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: [la[0], la[1], la[2]],
  };
}

/** Markdown lines describing `m`. */
export function machineLines(m: MachineInfo): string[] {
  return [
    `- date: ${m.date}`,
    `- commit: ${m.commit}`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}`,
    `- load average at the end: ${m.loadAverage.map((x) => x.toFixed(2)).join(' ')}`,
  ];
}

/**
 * Writes `bench/results/<bench>.md`: a title, the machine lines, the body (tables), and the verdict
 * lines; returns the path. Written atomically. The numbers vary with the machine and its load:
 * the file says so.
 */
export function writeBenchResults(bench: string, title: string, body: readonly string[], verdict: readonly string[],
  machine: MachineInfo = machineInfo()): string {
  const path = resolve(__dirname, '..', 'results', `${bench}.md`);
  const text = [
    `# ${title}`,
    '',
    `Written by \`npm run bench:${bench}\`. Numbers vary with the machine and what else runs on it; the load average is part of the result.`,
    '',
    ...machineLines(machine),
    '',
    ...body,
    '',
    ...verdict,
    '',
  ].join('\n');
  writeFileAtomic(path, text);
  return path;
}

/** `goal met` / `goal NOT met` line; benches print it last and still exit 0. */
export function verdictLine(what: string, met: boolean, detail: string): string {
  return `${met ? 'goal met' : 'goal NOT met'}: ${what}: ${detail}`;
}
