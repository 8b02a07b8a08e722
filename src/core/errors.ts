/**
 * Typed errors shared by every area of quantbook.
 *
 * Each error carries the place that caused it (file, row, column, value, cell, ...)
 * as structured fields, and a message that already names them, so a user can act
 * on the one line the CLI prints.
 */

/** Where a problem sits. Every field is optional; set what is known. */
export interface ErrorLocation {
  /** File or directory path the problem came from. */
  file?: string;
  /** 0-based row index in the file or frame (after any header). */
  row?: number;
  /** Column name. */
  column?: string;
  /** The offending value, as found. */
  value?: unknown;
  /** Symbol the row belongs to, for multi-symbol frames. */
  symbol?: string;
  /** Notebook cell index (0-based) or id. */
  cell?: number | string;
  /** Configuration key or CLI flag. */
  key?: string;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

/** Renders a location as `file a.csv, row 12, column "close", value -1`. */
export function formatLocation(loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(`file ${loc.file}`);
  if (loc.symbol !== undefined) parts.push(`symbol ${loc.symbol}`);
  if (loc.cell !== undefined) parts.push(`cell ${loc.cell}`);
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.column !== undefined) parts.push(`column "${loc.column}"`);
  if (loc.key !== undefined) parts.push(`key "${loc.key}"`);
  if ('value' in loc) parts.push(`value ${formatValue(loc.value)}`);
  return parts.join(', ');
}

/**
 * Base class of every quantbook error. `message` is `problem (location)`; the
 * structured location stays available on the instance for programs.
 */
export class QuantbookError extends Error {
  readonly location: ErrorLocation;
  /** The problem alone, without the location. */
  readonly problem: string;

  constructor(problem: string, location: ErrorLocation = {}, options?: { cause?: unknown }) {
    const where = formatLocation(location);
    super(where ? `${problem} (${where})` : problem, options);
    this.name = new.target.name;
    this.problem = problem;
    this.location = location;
  }

  get file(): string | undefined {
    return this.location.file;
  }
  get row(): number | undefined {
    return this.location.row;
  }
  get column(): string | undefined {
    return this.location.column;
  }
  get value(): unknown {
    return this.location.value;
  }
}

/** Bad market data: unreadable files, missing columns, invalid bars. */
export class DataError extends QuantbookError {}

/** A model file, card or forecast that cannot be used as asked. */
export class ModelError extends QuantbookError {}

/** A configuration, CLI flag or parameter that is invalid or contradictory. */
export class ConfigError extends QuantbookError {}

/** A notebook that cannot be read, run or rendered. */
export class NotebookError extends QuantbookError {}

/** An output file that cannot be written (full disk, read-only file system, a folder in the way); the previous file is kept. */
export class OutputError extends QuantbookError {}
