/**
 * Reading, checking and writing Jupyter notebooks (nbformat 4). Checked once
 * on entry: a file that is not JSON or not nbformat 4 is a NotebookError
 * naming the file (and the cell, when one cell is at fault).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { NotebookError } from '../../core/errors';
import { writeFileAtomic } from '../../core/output';

/** MIME bundle: MIME type -> data (string for text and base64 images, JSON for +json types). */
export type MimeBundle = Record<string, unknown>;

/** An nbformat 4 output. */
export type Output =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

const multiline = z.union([z.string(), z.array(z.string())]);
const cellSchema = z.looseObject({
  cell_type: z.enum(['code', 'markdown', 'raw']),
  id: z.string().optional(),
  source: multiline,
  metadata: z.record(z.string(), z.unknown()).default({}),
  outputs: z.array(z.record(z.string(), z.unknown())).optional(),
  execution_count: z.number().int().nullable().optional(),
  attachments: z.record(z.string(), z.unknown()).optional(),
});
const notebookSchema = z.looseObject({
  nbformat: z.literal(4),
  nbformat_minor: z.number().int().nonnegative(),
  metadata: z.record(z.string(), z.unknown()),
  cells: z.array(z.unknown()),
});

/** One notebook cell (nbformat 4). */
export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
  [extra: string]: unknown;
}

/** A notebook (nbformat 4). */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
  [extra: string]: unknown;
}

/**
 * A cell's source as one string (nbformat allows a list of lines).
 * @example cellSource({ source: ['a\n', 'b'] }) // 'a\nb'
 */
export function cellSource(cell: Pick<Cell, 'source'>): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/**
 * A cell's tags (`metadata.tags`), or none.
 * @example cellTags({ cell_type: 'code', source: '', metadata: { tags: ['parameters'] } }) // ['parameters']
 */
export function cellTags(cell: Cell): string[] {
  const tags = cell.metadata.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/**
 * Parses notebook JSON and checks it is nbformat 4 with well-formed cells.
 * @param file - the path, for error messages.
 * @throws NotebookError naming the file, and the cell index for a bad cell.
 * @example parseNotebook('{"nbformat": 3}', 'old.ipynb') // throws 'not an nbformat 4 notebook (nbformat 3) (file old.ipynb)'
 */
export function parseNotebook(text: string, file: string): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new NotebookError(`not valid JSON: ${(err as Error).message}`, { file });
  }
  const top = notebookSchema.safeParse(raw);
  if (!top.success) {
    const issue = top.error.issues[0];
    const where = issue.path.join('.') || 'top level';
    const version = (raw as { nbformat?: unknown } | null)?.nbformat;
    const problem = issue.path[0] === 'nbformat' ? `not an nbformat 4 notebook (nbformat ${JSON.stringify(version)})` : `not an nbformat 4 notebook: ${where}: ${issue.message}`;
    throw new NotebookError(problem, { file });
  }
  const cells = top.data.cells.map((c, i) => {
    const parsed = cellSchema.safeParse(c);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new NotebookError(`malformed cell: ${issue.path.join('.') || 'cell'}: ${issue.message}`, { file, cell: i });
    }
    const cell = parsed.data as Cell;
    if (cell.cell_type === 'code') {
      cell.outputs ??= [];
      cell.execution_count ??= null;
    }
    return cell;
  });
  return { ...top.data, cells } as Notebook;
}

/**
 * Reads and checks a notebook file.
 * @throws NotebookError when the file cannot be read or is not an nbformat 4 notebook.
 * @example readNotebook('notebooks/00-pipeline-sample.ipynb').cells.length // 10
 */
export function readNotebook(path: string): Notebook {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NotebookError(`cannot read notebook: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  return parseNotebook(text, path);
}

/**
 * A new cell id (nbformat 4.5 requires ids; 8 hex digits like JupyterLab's short ids).
 * @example newCellId() // 'a3f09c1e'
 */
export function newCellId(): string {
  return randomBytes(4).toString('hex');
}

// Jupyter writes keys sorted; doing the same keeps diffs of executed notebooks small.
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
}

/**
 * A notebook's file text as Jupyter writes it: sorted keys, 1-space indent, trailing newline.
 * @example notebookText(readNotebook('notebooks/x.ipynb')).endsWith('}\n') // true
 */
export function notebookText(nb: Notebook): string {
  return `${JSON.stringify(nb, sortedKeys, 1)}\n`;
}

/**
 * Writes a notebook as Jupyter does ({@link notebookText}), atomically.
 * @throws OutputError when the file cannot be written (the previous one is kept).
 * @example writeNotebook('reports/x.ipynb', readNotebook('notebooks/x.ipynb'))
 */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileAtomic(path, notebookText(nb));
}
