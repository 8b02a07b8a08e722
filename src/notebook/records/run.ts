/**
 * The records a notebook run leaves behind: what `runNotebook` writes into the
 * executed notebook's metadata (RunInfo), the one-line summary of a run in a
 * reports folder (RunSummary), and how cells are referred to. Plain types, shared by
 * the runner (writer), the report renderer and the sweeps (readers).
 */
import type { JsonValue, ProvenancePayload } from './mime';

/** Parameter values by name. */
export type Parameters = Record<string, JsonValue>;

/** The git commit of the checkout holding `dir`, and whether it has uncommitted changes. */
export interface GitState {
  commit: string;
  dirty: boolean;
}

/** A cell of the input notebook by index, or the injected-parameters cell (which it does not have). */
export type CellRef = number | 'injected-parameters';

/** Why a run stopped early. */
export interface RunFailure {
  /** Cell index in the input notebook, or 'injected-parameters'. */
  cell: CellRef;
  /** Index of that cell in the executed notebook (after injected and banner cells). */
  executedIndex: number;
  /** How the cell failed (the kernel client's non-ok outcomes). */
  kind: 'error' | 'timeout' | 'kernel-died';
  /** One line: what failed. */
  message: string;
  /** The kernel's full error text (stderr). */
  errorText: string;
}

/** What a run wrote into `metadata.quantbook` of the executed notebook. */
export interface RunInfo {
  status: 'ok' | 'failed';
  notebook: string;
  parameters: Parameters;
  startTime: string;
  endTime: string;
  durationS: number;
  kernel: {
    /** Seconds from the kernel's spawn to its first kernel_info answer. */
    startupS: number;
    cwd: string;
    implementation: string;
    /** When the kernel was spawned (ISO 8601); before the run's start when it was started ahead (`KernelPool`). Absent in older runs. */
    startTime?: string;
    /** Seconds from the run's start until its kernel was ready: near 0 for a kernel started ahead. Absent in older runs. */
    readyAfterS?: number;
    /** Kernels that stayed silent at start-up and were replaced by a fresh one before this run's kernel. Absent in older runs and when none. */
    silentStarts?: number;
    /**
     * The kernel's V8 code cache counts (`runner/codeCache.ts`), only when a cache file was corrupt
     * or refused by V8 (then compiled from source and replaced; said in `warnings` too).
     */
    codeCache?: { hits: number; misses: number; corrupt: number; rejected: number };
    /**
     * What the kernel start did with the V8 startup snapshot (`runner/snapshot.ts`): `used` (with
     * how many parsed declaration files it offered and the kernel reused while starting), `building`
     * (none yet: built in the background), `corrupt` or `refused` (removed, started without it),
     * `unavailable` (with why). Absent in older runs and for kernels given by argv.
     */
    snapshot?: { state: 'used' | 'building' | 'corrupt' | 'refused' | 'unavailable'; report?: { offered: number; reused: number }; reason?: string };
    /**
     * What the kernel's compile cache (`runner/compileCache.ts`) did with the cells: compiled from
     * an earlier run's result (`hits`), compiled and stored (`misses`), entries that no longer held
     * (`stale`) or failed their checksum (`corrupt`: said in `warnings` too), cells it leaves alone
     * (`uncacheable`), entries it could not write (`unwritten`: said in `warnings`), and `off` with
     * why when it could not run (said in `warnings`). Absent in older runs, for kernels
     * started without it (`--no-compile-cache`) and for kernels that are not tslab.
     */
    compileCache?: { hits: number; misses: number; stale: number; corrupt: number; uncacheable: number; unwritten: number; off?: string };
  };
  libraryVersion: string;
  git: GitState | null;
  host: string;
  records: Record<string, JsonValue>;
  provenance: ProvenancePayload[];
  warnings: string[];
  failure?: RunFailure;
}

/** What `<name>.run.json` holds: one line of the index. */
export interface RunSummary {
  /** Base name of the outputs (`<name>.html`). */
  name: string;
  notebook: string;
  status: 'ok' | 'failed';
  startTime: string;
  durationS: number;
  parameters: Parameters;
  records: Record<string, JsonValue>;
  /** Output file names relative to the folder; absent when the run failed before executing. */
  html?: string;
  ipynb?: string;
  /** One line, when failed. */
  error?: string;
  /** Parameter warnings (unknown names, no parameters cell). */
  warnings?: string[];
}
