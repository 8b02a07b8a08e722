/**
 * Timestamp parsing for loaders: ISO-8601 strings (with or without an offset),
 * strftime-style patterns, epoch numbers in s/ms/us/ns, and polars datetime
 * columns, all to epoch milliseconds UTC in a Float64Array.
 *
 * Naive timestamps (no offset) are wall-clock times in `timeZone` (default UTC),
 * converted through `Intl`. A column that mixes naive and offset-carrying values
 * is rejected: nobody can tell which zone the naive ones meant.
 */
import pl, { type DataType } from 'nodejs-polars';
import { DataError, ConfigError } from '../../core/errors';
import { isNumericType } from '../bars';
import { wallToUtcMs, wallTimeMultiplicity, assertTimeZone, type AmbiguousTime } from '../tz';

/** How the timestamp column is written. */
export type TimestampFormat =
  | { kind: 'auto' }
  | { kind: 'iso' }
  | { kind: 'epoch'; unit: 's' | 'ms' | 'us' | 'ns' }
  | { kind: 'pattern'; pattern: string };

/** Where the parsed values came from, for error messages. */
export interface TimestampContext {
  file?: string;
  column: string;
  /** Zone of naive wall-clock timestamps; default `'UTC'`. */
  timeZone?: string;
  /** Resolution of wall times repeated by a DST fall-back; default `'raise'`. */
  ambiguous?: AmbiguousTime;
}

const EPOCH_SCALE = { s: 1000, ms: 1, us: 1e-3, ns: 1e-6 } as const;

/** The largest |epoch ms| a JavaScript Date holds (year -271821 to 275760); beyond it no bar time can be printed. */
export const MAX_EPOCH_MS = 8.64e15;

/**
 * The epoch unit a number most likely uses, from its magnitude (the present is about 1.7e9 s):
 * below 1e11 seconds (up to year 5138), below 1e14 ms, below 1e17 us, else ns.
 * @example guessEpochUnit(1_718_000_000) // 's'
 */
export function guessEpochUnit(value: number): 's' | 'ms' | 'us' | 'ns' {
  const a = Math.abs(value);
  return a < 1e11 ? 's' : a < 1e14 ? 'ms' : a < 1e17 ? 'us' : 'ns';
}

/** The message for numbers without a unit: names the flag (and the option in code) with the likely unit. */
function needsUnitMessage(sample: number): string {
  const unit = Number.isFinite(sample) ? guessEpochUnit(sample) : 's';
  const words = { s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds' }[unit];
  return `numeric timestamps need a unit: these look like epoch ${words}, pass --timestamp epoch-${unit} (in code: timestamp: { kind: 'epoch', unit: '${unit}' })`;
}

/** Throws when an epoch-ms value lies outside what a Date can hold. */
function checkRange(ms: number, row: number, ctx: TimestampContext, raw: unknown): void {
  if (!(Math.abs(ms) <= MAX_EPOCH_MS)) {
    throw new DataError('timestamp out of range (a date must lie between the years -271821 and 275760; check --timestamp and its unit)', { file: ctx.file, row, column: ctx.column, value: raw });
  }
}

// YYYY-MM-DD, optional [T ]HH:MM[:SS[.fraction]], optional Z or +-HH[:MM]
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

interface Parsed {
  wall: number; // ms on a UTC-like clock
  offsetMs: number | undefined; // undefined = naive
}

function parseIso(text: string): Parsed | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000 + 1e-6) : 0;
  const wall = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), ms);
  // Date.UTC rolls 2024-02-31 into March; reject it.
  if (new Date(wall).getUTCDate() !== day) return undefined;
  let offsetMs: number | undefined;
  if (zone === 'Z') offsetMs = 0;
  else if (zone) {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMs = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
  }
  return { wall, offsetMs };
}

const PATTERN_PARTS: Record<string, string> = {
  '%Y': '(?<Y>\\d{4})',
  '%m': '(?<m>\\d{1,2})',
  '%d': '(?<d>\\d{1,2})',
  '%H': '(?<H>\\d{1,2})',
  '%M': '(?<M>\\d{2})',
  '%S': '(?<S>\\d{2})',
  '%f': '(?<f>\\d{1,9})',
  '%z': '(?<z>Z|[+-]\\d{2}:?\\d{2})',
  '%%': '%',
};

/**
 * Compiles a strftime subset (`%Y %m %d %H %M %S %f %z %%`) into a parser.
 * @throws ConfigError for other directives.
 * @example compilePattern('%d/%m/%Y %H:%M')('18/06/2024 09:35') // { wall: Date.UTC(2024,5,18,9,35), offsetMs: undefined }
 */
function compilePattern(pattern: string): (text: string) => Parsed | undefined {
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '%') {
      const dir = pattern.slice(i, i + 2);
      const part = PATTERN_PARTS[dir];
      if (!part) throw new ConfigError('unsupported directive in timestamp pattern (use %Y %m %d %H %M %S %f %z)', { value: pattern });
      src += part;
      i++;
    } else {
      src += pattern[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  const re = new RegExp(`^${src}$`);
  return (text) => {
    const g = re.exec(text.trim())?.groups;
    if (!g || !g.Y) return undefined;
    const iso = `${g.Y}-${(g.m ?? '1').padStart(2, '0')}-${(g.d ?? '1').padStart(2, '0')}T${(g.H ?? '0').padStart(2, '0')}:${g.M ?? '00'}:${g.S ?? '00'}${g.f ? `.${g.f}` : ''}${g.z ?? ''}`;
    return parseIso(iso);
  };
}

function wallToUtc(p: Parsed, row: number, ctx: TimestampContext, raw: string | (() => string)): number {
  if (p.offsetMs !== undefined) return p.wall - p.offsetMs;
  const tz = ctx.timeZone ?? 'UTC';
  const utc = wallToUtcMs(tz, p.wall, ctx.ambiguous ?? 'raise');
  if (Number.isNaN(utc)) {
    const n = wallTimeMultiplicity(tz, p.wall);
    const why =
      n === 0
        ? `local time does not exist in ${tz} (skipped by a daylight-saving change)`
        : `local time occurs twice in ${tz} (daylight-saving fall-back); pass --ambiguous earliest or --ambiguous latest (in code: ambiguous: 'earliest' | 'latest')`;
    throw new DataError(why, { file: ctx.file, row, column: ctx.column, value: typeof raw === 'function' ? raw() : raw });
  }
  return utc;
}

/**
 * Parses timestamp strings to epoch ms UTC.
 * @throws DataError for an unparseable value, for naive values mixed with offset values, or for
 *   a naive local time that does not exist or is ambiguous in `timeZone`.
 * @example parseTimestampStrings(['2024-06-18 09:35:00'], { column: 'ts', timeZone: 'Asia/Shanghai' })
 * // Float64Array [Date.UTC(2024, 5, 18, 1, 35)]
 */
export function parseTimestampStrings(
  values: ArrayLike<string | null>,
  ctx: TimestampContext,
  format: TimestampFormat = { kind: 'auto' },
): Float64Array {
  if (ctx.timeZone) assertTimeZone(ctx.timeZone);
  const parse = format.kind === 'pattern' ? compilePattern(format.pattern) : parseIso;
  const out = new Float64Array(values.length);
  let firstNaive = -1;
  let firstZoned = -1;
  for (let i = 0; i < values.length; i++) {
    const raw = values[i];
    if (raw === null || raw === undefined || raw === '') {
      throw new DataError('missing timestamp', { file: ctx.file, row: i, column: ctx.column, value: raw ?? null });
    }
    if (format.kind === 'epoch' || (format.kind === 'auto' && /^-?\d+(\.\d+)?$/.test(raw))) {
      if (format.kind !== 'epoch') {
        throw new DataError(needsUnitMessage(Number(raw)), { file: ctx.file, row: i, column: ctx.column, value: raw });
      }
      out[i] = Math.round(Number(raw) * EPOCH_SCALE[format.unit]);
      if (!Number.isFinite(out[i])) throw new DataError('unparseable timestamp', { file: ctx.file, row: i, column: ctx.column, value: raw });
      checkRange(out[i], i, ctx, raw);
      continue;
    }
    const p = parse(raw);
    if (!p) {
      const expected = format.kind === 'pattern' ? `pattern ${format.pattern}` : 'ISO 8601 like 2024-06-18 09:35:00 or 2024-06-18T13:35:00Z';
      throw new DataError(`unparseable timestamp (expected ${expected})`, { file: ctx.file, row: i, column: ctx.column, value: raw });
    }
    if (p.offsetMs === undefined) {
      if (firstNaive < 0) firstNaive = i;
    } else if (firstZoned < 0) firstZoned = i;
    if (firstNaive >= 0 && firstZoned >= 0) {
      throw new DataError(
        `mixed time zones: row ${firstZoned} carries a UTC offset, row ${firstNaive} has none; write every timestamp one way`,
        { file: ctx.file, row: i, column: ctx.column, value: raw },
      );
    }
    out[i] = wallToUtc(p, i, ctx, raw);
    checkRange(out[i], i, ctx, raw);
  }
  return out;
}

/**
 * Converts epoch numbers (s, ms, us or ns) to epoch ms.
 * @throws DataError for a non-finite value.
 * @example epochToMs([1_700_000_000], 's', { column: 't' }) // Float64Array [1_700_000_000_000]
 */
export function epochToMs(values: ArrayLike<number | bigint | null>, unit: 's' | 'ms' | 'us' | 'ns', ctx: TimestampContext): Float64Array {
  const out = new Float64Array(values.length);
  const scale = EPOCH_SCALE[unit];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (n === null || n === undefined || !Number.isFinite(n)) {
      throw new DataError('missing or non-finite timestamp', { file: ctx.file, row: i, column: ctx.column, value: v });
    }
    out[i] = Math.round(n * scale);
    checkRange(out[i], i, ctx, v);
  }
  return out;
}

function nullRow(s: pl.Series): number {
  const nulls = s.isNull().toArray() as boolean[];
  return nulls.indexOf(true);
}

/**
 * Converts any timestamp column of a polars frame to epoch ms UTC.
 *
 * Datetime with a zone: the stored instant. Naive Datetime: a wall time in `ctx.timeZone`.
 * Strings: {@link parseTimestampStrings}. Integers/floats: need `{ kind: 'epoch', unit }`.
 * @throws DataError for nulls, unparseable values, mixed zones or numbers without a unit.
 * @example timestampColumnToMs(pl.Series('t', ['2024-01-02T00:00:00Z']), { column: 't' }) // Float64Array [1704153600000]
 */
export function timestampColumnToMs(s: pl.Series, ctx: TimestampContext, format: TimestampFormat = { kind: 'auto' }): Float64Array {
  const dtype: DataType = s.dtype; // pl.Series defaults its dtype parameter to any
  if (dtype.variant === 'Datetime' || dtype.variant === 'Date') {
    const missing = nullRow(s);
    if (missing >= 0) throw new DataError('missing timestamp', { file: ctx.file, row: missing, column: ctx.column, value: null });
    const tz = (dtype as unknown as { timeZone?: string | null }).timeZone ?? null;
    const ms = (
      dtype.variant === 'Date'
        ? s.cast(pl.Datetime('ms'))
        : s.cast(pl.Datetime('ms', tz ?? undefined))
    )
      .cast(pl.Int64)
      .cast(pl.Float64)
      .toTypedArray() as Float64Array;
    for (let i = 0; i < ms.length; i++) checkRange(ms[i], i, ctx, ms[i]);
    if (tz || !ctx.timeZone || ctx.timeZone === 'UTC') return ms;
    assertTimeZone(ctx.timeZone);
    const out = new Float64Array(ms.length);
    for (let i = 0; i < ms.length; i++) out[i] = wallToUtc({ wall: ms[i], offsetMs: undefined }, i, ctx, () => new Date(ms[i]).toISOString().slice(0, 19).replace('T', ' '));
    return out;
  }
  if (dtype.variant === 'String') return parseTimestampStrings(s.toArray() as (string | null)[], ctx, format);
  if (isNumericType(dtype)) {
    if (format.kind !== 'epoch') {
      const first = s.cast(pl.Float64).get(Math.max(0, (s.isNull().toArray() as boolean[]).indexOf(false))) as number | null;
      throw new DataError(needsUnitMessage(first ?? NaN), { file: ctx.file, column: ctx.column, value: first ?? String(dtype) });
    }
    const missing = nullRow(s);
    if (missing >= 0) throw new DataError('missing timestamp', { file: ctx.file, row: missing, column: ctx.column, value: null });
    return epochToMs(s.cast(pl.Float64).toTypedArray() as Float64Array, format.unit, ctx);
  }
  throw new DataError('timestamp column has an unsupported type', { file: ctx.file, column: ctx.column, value: String(dtype) });
}
