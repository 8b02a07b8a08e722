/**
 * The MIME types quantbook writes into notebook outputs and the payloads they
 * carry. Shared by the in-kernel display API (writer) and the runner and
 * report (readers), so both sides agree on one definition.
 */

/** Plotly's own Jupyter MIME type: the figure JSON (`{ data, layout, config? }`). */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
/** A named result stored by `record(name, value)`. Payload: {@link RecordPayload}. */
export const RECORD_MIME = 'application/vnd.quantbook.record+json';
/** A data frame's head and tail as JSON. Payload: {@link TablePayload}. */
export const TABLE_MIME = 'application/vnd.quantbook.table+json';
/** A provenance declaration (data file, model, device, note). Payload: {@link ProvenancePayload}. */
export const PROVENANCE_MIME = 'application/vnd.quantbook.provenance+json';

/** Output metadata key set on the one output per kernel session that carries plotly.js. */
export const PLOTLY_LOADER_FLAG = 'plotlyLoader';

/** JSON value as stored by `record`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Payload of {@link RECORD_MIME}. */
export interface RecordPayload {
  name: string;
  value: JsonValue;
}

/** One cell of a table payload: JSON scalars; dates as ISO strings. */
export type TableCell = string | number | boolean | null;

/** Payload of {@link TABLE_MIME}: the rows shown, never the whole frame. */
export interface TablePayload {
  columns: Array<{ name: string; dtype: string }>;
  /** Total rows of the frame. */
  height: number;
  /** First rows (all rows when the frame is short). */
  head: TableCell[][];
  /** Last rows; empty when the frame is short enough to show whole. */
  tail: TableCell[][];
}

/** Payload of {@link PROVENANCE_MIME}. */
export type ProvenancePayload =
  | { kind: 'file'; role: 'data' | 'model' | 'config'; path: string; resolvedPath: string; bytes: number; sha256: string }
  | { kind: 'device'; device: string; detail?: string }
  | { kind: 'note'; key: string; value: string };
