/**
 * The notebook-side API: `show`, `record`, `loadPlotly`. It runs inside the
 * tslab kernel and writes multi-MIME display messages, so JupyterLab, nbconvert
 * and the quantbook runner each find the representation they read.
 *
 * This module must import fast and load nothing heavy (no polars, zeromq,
 * onnxruntime): notebooks import it in their first cell.
 */
import { NotebookError } from '../../core/errors';
import { isFigure, type Figure } from '../../plot/figure';
import { isFrameLike, isSeriesLike, tableHtml, tablePayload, type FrameLike } from './frame-table';
import { PLOTLY_LOADER_FLAG, PLOTLY_MIME, RECORD_MIME, TABLE_MIME, type JsonValue, type RecordPayload } from '../records/mime';
import { figureHtml, plotlyLoaderHtml } from './plotly-html';

/** A MIME bundle plus output metadata: one Jupyter `display_data` message. */
export interface DisplayMessage {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** Where display messages go: the tslab kernel, or a test/script collector. */
export type DisplaySink = (message: DisplayMessage) => void;

let customSink: DisplaySink | null = null;
let plotlyLoaded = false;

/**
 * Routes `show`/`record`/`provenance` output to `sink` instead of the kernel
 * (scripts and tests); `null` restores the kernel.
 * @example const seen: DisplayMessage[] = []; setDisplaySink((m) => seen.push(m)); record('x', 1); // seen[0].data has RECORD_MIME
 */
export function setDisplaySink(sink: DisplaySink | null): void {
  customSink = sink;
  plotlyLoaded = false;
}

type TslabWriter = (content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: object }, update: boolean) => void;

// tslab's public `display.raw` sends one MIME type per message; its internal
// writer (the module-level `lastWriteDisplayData` of tslab/dist/jupyter.js,
// pinned at tslab 1.0.22) sends a whole bundle. We look it up in the module
// cache so we get the running kernel's instance, whichever tslab started it.
function tslabWriter(): TslabWriter | null {
  if (!(globalThis as { __tslab__?: unknown }).__tslab__) return null;
  for (const mod of Object.values(require.cache)) {
    if (mod && /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(mod.id)) {
      const w = (mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
      if (typeof w === 'function') return w as TslabWriter;
    }
  }
  return null;
}

/**
 * Sends one display message to the current sink. @throws NotebookError outside a kernel with no sink set.
 * @example emitDisplay({ data: { 'text/markdown': '**done**' }, metadata: {} })
 */
export function emitDisplay(message: DisplayMessage): void {
  if (customSink) {
    customSink(message);
    return;
  }
  const writer = tslabWriter();
  if (!writer) {
    throw new NotebookError('no notebook to display into: run inside the tslab kernel (JupyterLab or quantbook run), or call setDisplaySink() first');
  }
  writer({ data: message.data, metadata: message.metadata, transient: {} }, false);
}

/** Options of {@link show}. */
export interface ShowOptions {
  /** Figure height in pixels when the layout sets none. Default 450. */
  height?: number;
  /** Frames with more rows show head and tail, `rows / 2` each. Default 20. */
  rows?: number;
}

/**
 * Displays a Plotly figure (interactive, offline) or a polars DataFrame/Series
 * (HTML table, head and tail when long).
 *
 * A figure output carries `application/vnd.plotly.v1+json` (the figure, for
 * reports and Plotly-aware front ends), `text/html` (a div drawn by the
 * plotly.js inlined once per kernel session) and `text/plain`.
 * @throws NotebookError for anything else (use `console.log` for plain values).
 * @example show({ data: [{ type: 'scatter', y: [1, 3, 2] }], layout: { title: { text: 'demo' } } })
 */
export function show(value: Figure | FrameLike | { toFrame(): FrameLike }, options: ShowOptions = {}): void {
  if (isFigure(value)) {
    const fig = figureToJson(value);
    const loader = plotlyLoaded ? '' : `${plotlyLoaderHtml()}\n`;
    const title = (fig.layout?.title as { text?: string } | string | undefined);
    const titleText = typeof title === 'string' ? title : title?.text ?? 'untitled';
    emitDisplay({
      data: {
        [PLOTLY_MIME]: fig,
        'text/html': loader + figureHtml(fig, options.height),
        'text/plain': `Figure: ${titleText} (${fig.data.length} traces)`,
      },
      metadata: plotlyLoaded ? {} : { quantbook: { [PLOTLY_LOADER_FLAG]: true } },
    });
    plotlyLoaded = true;
    return;
  }
  const frame = isFrameLike(value) ? value : isSeriesLike(value) ? value.toFrame() : null;
  if (frame) {
    const table = tablePayload(frame, options.rows);
    emitDisplay({ data: { [TABLE_MIME]: table, 'text/html': tableHtml(table), 'text/plain': String(frame) }, metadata: {} });
    return;
  }
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new NotebookError(`show() takes a Plotly figure ({ data, layout }) or a polars DataFrame/Series, got ${kind}`);
}

/**
 * A figure as plain JSON: typed arrays become arrays and non-finite numbers
 * `null`, which Plotly draws as the same gap NaN would have been.
 * @example figureToJson({ data: [{ y: new Float64Array([1, NaN]) }], layout: {} }).data[0].y // [1, null]
 */
export function figureToJson(figure: Figure): Figure {
  const text = JSON.stringify(figure, (_key, v: unknown) =>
    ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number | bigint>, Number) : v);
  return JSON.parse(text) as Figure;
}

/**
 * Sends plotly.js to the page again: for a notebook whose first figure output
 * (which carried plotly.js) was cleared.
 * @example loadPlotly() // one output carrying plotly.js; figures waiting on the page draw
 */
export function loadPlotly(): void {
  emitDisplay({ data: { 'text/html': plotlyLoaderHtml() }, metadata: { quantbook: { [PLOTLY_LOADER_FLAG]: true } } });
  plotlyLoaded = true;
}

/**
 * Checks that `value` is JSON and returns its JSON form: typed arrays become
 * arrays, Dates ISO strings; NaN, Infinity, undefined, functions, bigints,
 * symbols, Maps/Sets and cycles are refused rather than silently changed.
 * @throws NotebookError naming the path inside the value.
 * @example toJsonValue(new Float64Array([1, 2])) // [1, 2]
 */
export function toJsonValue(value: unknown, path = '$', seen: Set<object> = new Set()): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NotebookError(`value at ${path} is ${value}, which JSON cannot hold`, { value });
    return value;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new NotebookError(`value at ${path} is an invalid Date`);
    return value.toISOString();
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v, i) => toJsonValue(v, `${path}[${i}]`, seen));
  }
  if (typeof value === 'object') {
    if (value instanceof Map || value instanceof Set) throw new NotebookError(`value at ${path} is a ${value.constructor.name}; convert it to an object or array first`);
    if (seen.has(value)) throw new NotebookError(`value at ${path} refers to itself (a cycle)`);
    seen.add(value);
    let out: JsonValue;
    if (Array.isArray(value)) {
      out = value.map((v, i) => toJsonValue(v, `${path}[${i}]`, seen));
    } else {
      const obj: { [key: string]: JsonValue } = {};
      for (const [k, v] of Object.entries(value)) {
        // A "__proto__" key is data: assigning it would set the prototype and lose it.
        Object.defineProperty(obj, k, { value: toJsonValue(v, `${path}.${k}`, seen), enumerable: true, writable: true, configurable: true });
      }
      out = obj;
    }
    seen.delete(value);
    return out;
  }
  throw new NotebookError(`value at ${path} is a ${typeof value}, which JSON cannot hold`);
}

function preview(value: JsonValue): string {
  const s = JSON.stringify(value);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * Stores a named JSON result in the notebook's output (MIME
 * `application/vnd.quantbook.record+json`) for `quantbook run`, reports and
 * sweeps to collect, the way scrapbook's `glue` does. A later record of the
 * same name wins. Also shows one `name = value` text line.
 * @param name - non-empty, at most 200 characters.
 * @throws NotebookError for a bad name or a value JSON cannot hold (see {@link toJsonValue}).
 * @example record('pUp', 0.53) // shown as "pUp = 0.53"; collected as records.pUp === 0.53
 */
export function record(name: string, value: unknown): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new NotebookError('record() needs a name of 1 to 200 characters', { key: String(name) });
  }
  let json: JsonValue;
  try {
    json = toJsonValue(value);
  } catch (err) {
    if (err instanceof NotebookError) throw new NotebookError(`record("${name}"): ${err.problem}`, { key: name });
    throw err;
  }
  const payload: RecordPayload = { name, value: json };
  emitDisplay({ data: { [RECORD_MIME]: payload, 'text/plain': `${name} = ${preview(json)}` }, metadata: {} });
}
