/**
 * The records shared by the in-kernel API, the runner, the report renderer and
 * the sweeps: MIME payloads of notebook outputs, the nbformat document, what a
 * run writes (run info, summaries, cell references) and sweep rows. Plain data
 * and the notebook file format only: nothing here imports the runner, the
 * renderer or the sweeps, so all of them can import it.
 */
export { PLOTLY_MIME, RECORD_MIME, TABLE_MIME, PROVENANCE_MIME } from './mime';
export type { JsonValue, RecordPayload, TablePayload, TableCell, ProvenancePayload } from './mime';
export { readNotebook, parseNotebook, writeNotebook, cellSource, cellTags } from './nbformat';
export type { Notebook, Cell, Output, MimeBundle } from './nbformat';
export type { CellRef, GitState, Parameters, RunFailure, RunInfo, RunSummary } from './run';
export type { GridAxis, SweepResult, SweepRow } from './sweep';
