/**
 * `quantbook data ...`: inspect, validate and resample bar files from the command line.
 *
 * Exit codes: 0 done; 1 error, or (`validate`, `inspect --strict`) any validation problem found.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { dict } from '../core/dict';
import { ConfigError } from '../core/errors';
import { checkOutputFile } from '../core/output';
import {
  fillGaps,
  MAX_FILL_FACTOR,
  MAX_FILLED_BARS,
  inspectBars,
  isWritableBarsPath,
  loadBars,
  loadValidBars,
  parseDuration,
  resample,
  SESSIONS,
  writeBars,
  type Bars,
  type ColumnMap,
  type InspectReport,
  type LoadOptions,
  type RepairRule,
  type TimestampFormat,
} from '../data';
import { parseFlags } from './options';
import { registerStoreCommands } from './dataStore';

const sessionNames = Object.keys(SESSIONS) as [keyof typeof SESSIONS, ...(keyof typeof SESSIONS)[]];

const loadFlags = z.object({
  timeZone: z.string().optional(),
  timestamp: z.string().optional(),
  stampedAt: z.enum(['start', 'end']).optional(),
  // `ts=` (empty name) means the unnamed first column, as pandas' `to_csv()` writes its index.
  column: z.array(z.string().regex(/^(ts=.*|(open|high|low|close|volume|symbol)=.+)$/, 'use KEY=NAME with KEY one of ts, open, high, low, close, volume, symbol (ts= alone: the unnamed first column)')).optional(),
  symbol: z.string().optional(),
  allowMixedIntervals: z.boolean().optional(),
  ambiguous: z.enum(['earliest', 'latest']).optional(),
});

/** Help of `--ambiguous`, shared by every command that loads bars with load flags. */
export const AMBIGUOUS_FLAG_HELP = 'a wall time that occurs twice (DST fall-back) in --time-zone: earliest or latest (default: an error naming the row)';

/** The `--timestamp` flag as a timestamp format (undefined for `auto`).
 * @throws ConfigError for an unknown format.
 * @example timestampFormat('epoch-ms') // { kind: 'epoch', unit: 'ms' }
 */
export function timestampFormat(text: string | undefined): TimestampFormat | undefined {
  if (text === undefined || text === 'auto') return undefined;
  if (text === 'iso') return { kind: 'iso' };
  const epoch = /^epoch-(s|ms|us|ns)$/.exec(text);
  if (epoch) return { kind: 'epoch', unit: epoch[1] as 's' | 'ms' | 'us' | 'ns' };
  if (text.includes('%')) return { kind: 'pattern', pattern: text };
  throw new ConfigError('use auto, iso, epoch-s, epoch-ms, epoch-us, epoch-ns or a %Y-%m-%d %H:%M pattern', { key: '--timestamp', value: text });
}

function loadOptions(raw: unknown, barMs?: number): LoadOptions {
  const f = parseFlags(loadFlags, raw);
  const columns: ColumnMap = dict<string>(); // keys are checked above; no prototype all the same
  for (const c of f.column ?? []) {
    const [k, ...rest] = c.split('=');
    columns[k as keyof ColumnMap] = rest.join('=');
  }
  if (f.stampedAt === 'end' && !barMs) throw new ConfigError('--stamped-at end needs --bar, the bar length (e.g. 5m)', { key: '--stamped-at' });
  return {
    timeZone: f.timeZone,
    timestamp: timestampFormat(f.timestamp),
    stampedAt: f.stampedAt,
    barMs,
    columns,
    symbol: f.symbol,
    allowMixedIntervals: f.allowMixedIntervals,
    ambiguous: f.ambiguous,
  };
}

function addLoadFlags(cmd: Command): Command {
  return cmd
    .option('--time-zone <tz>', 'IANA zone of naive timestamps (default UTC), e.g. America/New_York')
    .option('--timestamp <format>', 'timestamp format: auto, iso, epoch-s, epoch-ms, epoch-us, epoch-ns, or a pattern like "%d/%m/%Y %H:%M"')
    .option('--stamped-at <start|end>', 'whether timestamps mark the bar start (default) or its end')
    .option('--bar <duration>', 'bar length, needed with --stamped-at end (e.g. 5m)')
    .option('--column <KEY=NAME...>', 'source column for ts, open, high, low, close, volume or symbol (repeatable)')
    .option('--symbol <name>', 'symbol to attach to a single-symbol file')
    .option('--allow-mixed-intervals', 'accept files or symbols with different bar intervals')
    .option('--ambiguous <earliest|latest>', AMBIGUOUS_FLAG_HELP);
}

/** A count right-aligned in `width`, always after a space (a gap of decades has more digits than the column). */
const num = (n: number, width: number): string => ` ${String(n).padStart(width - 1)}`;

function fmtReport(path: string, r: InspectReport): string {
  const lines = [
    `${path}`,
    `  rows       ${r.rows}`,
    `  symbols    ${r.symbols.length}${r.symbols[0]?.symbol ? `: ${r.symbols.map((s) => s.symbol).slice(0, 12).join(', ')}${r.symbols.length > 12 ? ', ...' : ''}` : ''}`,
    `  span       ${r.first} .. ${r.last} (UTC)`,
    `  interval   ${[...new Set(r.symbols.map((s) => s.interval))].join(', ')}`,
    `  session    ${r.session}${r.session === '24x7' ? ' (pass --session for markets with trading hours)' : ''}`,
    '',
    `  ${'symbol'.padEnd(16)}${'rows'.padStart(9)}  ${'first'.padEnd(20)}  ${'last'.padEnd(20)}  ${'bar'.padStart(4)}${'sessions'.padStart(10)}${'w/ gaps'.padStart(9)}${'missing'.padStart(9)}${'edge'.padStart(7)}${'outside'.padStart(9)}`,
  ];
  for (const s of r.symbols) {
    lines.push(
      `  ${(s.symbol || '-').padEnd(16)}${String(s.rows).padStart(9)}  ${s.first.slice(0, 16).replace('T', ' ').padEnd(20)}  ${s.last.slice(0, 16).replace('T', ' ').padEnd(20)}  ${s.interval.padStart(4)}${num(s.sessions, 10)}${num(s.sessionsWithGaps, 9)}${num(s.missingBars, 9)}${num(s.edgeMissing, 7)}${num(s.outsideSession, 9)}`,
    );
  }
  lines.push('', '  missing = bars absent between recorded bars of one window (--fill inserts them); edge = absent at window starts/ends');
  lines.push(...problemLines(r));
  return lines.join('\n');
}

/** The validation lines of `inspect` (and all `validate` prints): counts per rule, then the first problems of each. */
function problemLines(r: InspectReport): string[] {
  const counts = Object.entries(r.problemCounts).filter(([, n]) => n > 0);
  const lines = [counts.length === 0 ? '  validation: ok' : `  validation: ${counts.map(([rule, n]) => `${n} ${rule}`).join(', ')} (first ones below)`];
  for (const p of r.problems) {
    lines.push(`    ${p.rule.padEnd(9)} ${p.symbol ? `${p.symbol} ` : ''}row ${p.row}, column ${p.column}, value ${problemValue(p.value)}: ${p.message}`);
  }
  return lines;
}

const sessionFlag = z.enum(sessionNames);
const repairFlag = z.array(z.enum(['sort', 'dropDuplicates', 'dropInvalid'])).optional();

/** A problem's value as printed: NaN and infinities by name (JSON has no word for them), dates in ISO. */
function problemValue(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** The inspect report as JSON, with NaN and infinities as the strings "NaN", "Infinity", "-Infinity" (JSON.stringify would write null, the same as a missing
 * value). */
function reportJson(r: InspectReport): string {
  return JSON.stringify(r, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

/** Loads the file as `inspect` and `validate` do (no validation: the problems are listed, not thrown) and summarizes it. */
function inspectPath(path: string, opts: Record<string, unknown>): InspectReport {
  const session = parseFlags(sessionFlag, opts.session ?? '24x7', { single: 'session' });
  const bars = loadBars(path, loadOptions(opts, opts.bar ? parseDuration(String(opts.bar)) : undefined));
  return inspectBars(bars, session, { allowMixedIntervals: Boolean(opts.allowMixedIntervals) });
}

/** Problems of a report, all rules together. */
function problemTotal(r: InspectReport): number {
  return Object.values(r.problemCounts).reduce((a, b) => a + b, 0);
}

/** Attaches `quantbook data inspect`, `quantbook data validate` and `quantbook data resample`.
 * @example registerDataCommands(program) // adds `data inspect`, `data validate` and `data resample`
 */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('inspect, validate and resample market bar files (CSV, Parquet, Feather/Arrow, kline or Alpaca JSON); fetch bars into a bar store');
  registerStoreCommands(data);

  addLoadFlags(
    data
      .command('inspect')
      .argument('<path>', 'a bar file or a folder of per-symbol files')
      .description('print rows, symbols, time span, bar interval, gaps per session and validation problems')
      .option('--session <name>', `calendar for gap counting: ${sessionNames.join(', ')}`, '24x7')
      .option('--strict', 'exit 1 when any validation problem is found (as `data validate`)')
      .option('--json', 'print the report as JSON'),
  ).action((path: string, opts: Record<string, unknown>) => {
    const report = inspectPath(path, opts);
    process.stdout.write(`${opts.json ? reportJson(report) : fmtReport(path, report)}\n`);
    if (opts.strict && problemTotal(report) > 0) process.exitCode = 1;
  });

  addLoadFlags(
    data
      .command('validate')
      .argument('<path>', 'a bar file or a folder of per-symbol files')
      .description('check bars against the rules every command applies (prices finite and > 0, high/low bound open and close, volume finite and >= 0, timestamps strictly increasing, one bar interval); exit 0 when clean, 1 when any problem is found')
      .option('--json', 'print the problems and their counts as JSON'),
  ).action((path: string, opts: Record<string, unknown>) => {
    const report = inspectPath(path, opts);
    const total = problemTotal(report);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ path, ok: total === 0, rows: report.rows, problemCounts: report.problemCounts, problems: JSON.parse(reportJson(report)).problems }, null, 2)}\n`);
    } else {
      process.stdout.write(`${path}: ${report.rows} rows, ${report.symbols.length} symbol${report.symbols.length === 1 ? '' : 's'}\n${problemLines(report).join('\n')}\n`);
    }
    if (total > 0) process.exitCode = 1;
  });

  addLoadFlags(
    data
      .command('resample')
      .argument('<in>', 'input bar file or folder')
      .argument('<out>', 'output file: .parquet, .feather/.arrow or .csv')
      .description('validate, optionally fill gaps inside sessions, and resample to a coarser interval (buckets labelled by their start, closed on the left)')
      .requiredOption('--every <duration>', 'target interval, a whole multiple of the bar interval: 5m, 30m, 1h, 4h, 1d')
      .option('--session <name>', `calendar: buckets anchor at each window open and never span a break (${sessionNames.join(', ')}); default: UTC epoch-aligned buckets`)
      .option('--fill', `forward-fill missing bars inside session windows before resampling (24x7 unless --session; refused when it would insert more than ${MAX_FILL_FACTOR} x the input rows or ${MAX_FILLED_BARS.toLocaleString('en-US')} bars in all)`)
      .option('--repair <rule...>', 'repairs before validating: sort, dropDuplicates, dropInvalid (counted and printed)'),
  ).action((input: string, output: string, opts: Record<string, unknown>) => {
    // Before any work: an output that cannot be written fails now, in one line.
    if (!isWritableBarsPath(output)) throw new ConfigError('cannot write this file type (use .parquet, .feather, .arrow or .csv)', { key: '<out>', value: output });
    checkOutputFile(output, '<out>');
    const every = parseDuration(String(opts.every));
    const session = opts.session === undefined ? undefined : parseFlags(sessionFlag, opts.session, { single: 'session' });
    const repair = parseFlags(repairFlag, opts.repair, { single: 'repair' }) as RepairRule[] | undefined;
    const v = loadValidBars(input, { ...loadOptions(opts, opts.bar ? parseDuration(String(opts.bar)) : undefined), repair });
    const inputRows = v.bars.height + v.repaired.dropInvalid + v.repaired.dropDuplicates;
    const notes: string[] = [];
    if (repair) notes.push(`repaired: ${Object.entries(v.repaired).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    let bars: Bars = v.bars;
    if (opts.fill) {
      const f = fillGaps(bars, session ?? '24x7');
      notes.push(`filled ${f.filled} missing bars inside ${session ?? '24x7'} windows`);
      bars = f.bars.drop('filled');
    }
    const r = resample(bars, every, { session, file: input });
    if (r.outsideSession > 0) notes.push(`left out ${r.outsideSession} bars outside ${session} windows`);
    writeBars(r.bars, output);
    process.stdout.write(`wrote ${r.bars.height} bars of ${opts.every} to ${output} (from ${inputRows} input bars)\n${notes.map((n) => `  ${n}\n`).join('')}`);
  });
}
