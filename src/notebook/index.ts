/**
 * The notebook API, imported by notebooks as
 * `import { show, record, provenance } from '../dist/notebook'`.
 * Light on purpose: the runner (zeromq) and reports live in
 * `src/notebook/runner` and `src/notebook/report` and are not loaded here.
 */
export { show, record, loadPlotly, setDisplaySink, figureToJson, toJsonValue } from './display';
export type { ShowOptions, DisplayMessage, DisplaySink } from './display';
export { provenance, sha256File } from './provenance';
export type { ProvenanceFile } from './provenance';
export { PLOTLY_MIME, RECORD_MIME, TABLE_MIME, PROVENANCE_MIME } from './mime';
export type { JsonValue, RecordPayload, TablePayload, ProvenancePayload } from './mime';
