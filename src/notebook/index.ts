/**
 * The notebook API, imported by notebooks as
 * `import { show, record, provenance } from '../dist/notebook'`; its code is in
 * `./api` (display, records, provenance and the HTML a display carries).
 * Light on purpose: the other concerns of this folder are not loaded here:
 * `./runner` (the Jupyter-protocol client that drives a kernel; zeromq),
 * `./report` (HTML rendering of executed notebooks; markdown-it, highlight.js),
 * `./sweep` (parameter sweeps, local or over a queue) and `./records` (the
 * record types all of them share). See docs/ARCHITECTURE.md.
 */
export { show, record, loadPlotly, setDisplaySink, figureToJson, toJsonValue } from './api/display';
export type { ShowOptions, DisplayMessage, DisplaySink } from './api/display';
export { provenance, sha256File } from './api/provenance';
export type { ProvenanceFile } from './api/provenance';
export { PLOTLY_MIME, RECORD_MIME, TABLE_MIME, PROVENANCE_MIME } from './records/mime';
export type { JsonValue, RecordPayload, TablePayload, ProvenancePayload } from './records/mime';
