/**
 * Fetch progress: a live bar per series on a terminal (symbol, pages, bars, ETA), or one line per
 * series when the output is a file or a pipe.
 */

/** Where the fetch loop reports progress. */
export interface ProgressSink {
  /** A series starts: `totalMs` of time range to fetch. */
  begin(label: string, totalMs: number): void;
  /** After each stored page. */
  update(label: string, state: { pages: number; bars: number; doneMs: number }): void;
  /** A series is done; `line` summarises it. */
  end(label: string, line: string): void;
  /** A retry or wait worth telling. */
  note(text: string): void;
}

/** A sink that reports nothing. */
export const silentProgress: ProgressSink = { begin() {}, update() {}, end() {}, note() {} };

/** Minimal writable stream. */
export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A progress sink on a stream: redraws one line per series on a terminal (`isTTY`), and writes
 * only the summary line of each series otherwise. Notes (retries) go on their own lines.
 * @example const sink = streamProgress(process.stderr)
 */
export function streamProgress(out: TextOut, opts: { tty?: boolean; now?: () => number; width?: number } = {}): ProgressSink {
  const tty = opts.tty ?? Boolean(out.isTTY);
  const now = opts.now ?? (() => performance.now());
  const width = opts.width ?? 24;
  const started = new Map<string, { at: number; totalMs: number }>();
  let live = false;
  return {
    begin(label, totalMs) {
      started.set(label, { at: now(), totalMs });
    },
    update(label, s) {
      if (!tty) return;
      const st = started.get(label);
      const frac = st && st.totalMs > 0 ? Math.min(1, s.doneMs / st.totalMs) : 1;
      const elapsed = st ? (now() - st.at) / 1000 : 0;
      const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : Infinity;
      const filled = Math.round(frac * width);
      out.write(`\r\x1b[K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${s.pages} pages  ${s.bars} bars  ETA ${fmtSeconds(eta)}`);
      live = true;
    },
    end(_label, line) {
      out.write(`${tty && live ? '\r\x1b[K' : ''}${line}\n`);
      live = false;
    },
    note(text) {
      out.write(`${tty && live ? '\r\x1b[K' : ''}${text}\n`);
      live = false;
    },
  };
}
