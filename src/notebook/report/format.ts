/**
 * Number, size and duration formats shared by the report pages and the CLI.
 */
import { formatCell } from '../frame-table';
import type { JsonValue } from '../mime';

/**
 * A JSON value in one short line (for tables).
 * @example formatJson(0.123456789) // '0.123457'; formatJson([1, 2]) // '[1,2]'
 */
export function formatJson(v: JsonValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return formatCell(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/**
 * Bytes as `812 B`, `1.2 KiB`, `3.4 MiB`.
 * @example formatBytes(2048) // '2.0 KiB'
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Seconds as `0.42 s`, `12.3 s` or `3 min 05 s`.
 * @example formatDuration(185) // '3 min 05 s'
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
}
