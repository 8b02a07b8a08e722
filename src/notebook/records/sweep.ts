/**
 * The records of a parameter sweep: the grid's axes, one row per combination and
 * the finished sweep. Shared by the sweep runner (writer) and the sweep page (reader).
 */
import type { JsonValue } from './mime';
import type { Parameters, RunSummary } from './run';

/** One swept parameter and its values, in the order given. */
export interface GridAxis {
  name: string;
  values: JsonValue[];
}

/** One combination's outcome. */
export interface SweepRow {
  index: number;
  /** The swept values only (fixed parameters are in {@link SweepResult.fixed}). */
  combination: Parameters;
  summary: RunSummary;
}

/** A finished sweep. */
export interface SweepResult {
  notebook: string;
  axes: GridAxis[];
  fixed: Parameters;
  rows: SweepRow[];
  outDir: string;
  durationS: number;
}
