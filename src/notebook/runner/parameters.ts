/**
 * Notebook parameters with papermill's conventions: values from `-f file.yaml`,
 * then `-y 'yaml'`, then `-p name value` (later wins), injected as TypeScript
 * `const` declarations in a cell tagged `injected-parameters` right after the
 * first cell tagged `parameters`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { NotebookError } from '../../core/errors';
import { toJsonValue } from '../display';
import type { JsonValue } from '../mime';
import { cellSource, cellTags, newCellId, type Cell, type Notebook } from './nbformat';

/** Parameter values by name. */
export type Parameters = Record<string, JsonValue>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Reads a `-p` value the way papermill does, with JSON for the rest: a
 * number, `true`/`false` (or Python's `True`/`False`), `null`/`None`, a JSON
 * array, object or quoted string; anything else is the string itself.
 * @example parseParamValue('0.5') // 0.5
 * @example parseParamValue('[1,2]') // [1, 2]
 * @example parseParamValue('BTCUSDT') // 'BTCUSDT'
 */
export function parseParamValue(raw: string): JsonValue {
  const s = raw.trim();
  if (NUMBER.test(s)) return Number(s);
  if (s === 'true' || s === 'True') return true;
  if (s === 'false' || s === 'False') return false;
  if (s === 'null' || s === 'None') return null;
  if (/^[[{"]/.test(s)) {
    try {
      return JSON.parse(s) as JsonValue;
    } catch {
      return raw; // looked like JSON but is not: keep the text as typed
    }
  }
  return raw;
}

// Words a `const` cannot be named (ES reserved words, strict-mode ones, and TS's own).
const RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export extends false '
  + 'finally for function if import in instanceof new null return super switch this throw true try typeof var void while with '
  + 'implements interface let package private protected public static yield await arguments eval undefined NaN Infinity').split(' '));

/**
 * Checks that `name` can be a TypeScript `const`.
 * @throws NotebookError naming the parameter otherwise.
 * @example checkParamName('nPaths') // ok; checkParamName('n-paths') // throws
 */
export function checkParamName(name: string, file?: string): void {
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) || RESERVED.has(name)) {
    throw new NotebookError(`parameter name ${JSON.stringify(name)} is not a valid identifier`, { file, key: name });
  }
}

function yamlMapping(text: string, source: string, file?: string): Parameters {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new NotebookError(`parameters in ${source} are not valid YAML: ${(err as Error).message.split('\n')[0]}`, { file });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new NotebookError(`parameters in ${source} must be a YAML mapping of name: value`, { file });
  const out: Parameters = {};
  for (const [name, value] of Object.entries(doc)) {
    try {
      out[name] = toJsonValue(value);
    } catch (err) {
      throw new NotebookError(`parameter "${name}" in ${source}: ${(err as NotebookError).problem ?? String(err)}`, { file, key: name });
    }
  }
  return out;
}

/** Parameter sources as the CLI receives them. */
export interface ParameterSources {
  /** `-f` YAML files, in order. */
  files?: string[];
  /** `-y` YAML strings, in order. */
  yaml?: string[];
  /** `-p name value` pairs, in order. */
  pairs?: Array<[string, string]>;
}

/**
 * Merges parameter sources in papermill's order (files, YAML strings, pairs;
 * later wins) and checks every name.
 * @throws NotebookError for unreadable files, bad YAML or a bad name.
 * @example collectParameters({ pairs: [['horizon', '30']] }) // { horizon: 30 }
 */
export function collectParameters(src: ParameterSources, notebook?: string): Parameters {
  const params: Parameters = {};
  for (const f of src.files ?? []) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      throw new NotebookError('cannot read parameters file', { file: f });
    }
    Object.assign(params, yamlMapping(text, f, notebook));
  }
  for (const y of src.yaml ?? []) Object.assign(params, yamlMapping(y, '-y', notebook));
  for (const [name, value] of src.pairs ?? []) params[name] = parseParamValue(value);
  for (const name of Object.keys(params)) checkParamName(name, notebook);
  return params;
}

/** A declaration found in the parameters cell. */
export interface DeclaredParameter {
  name: string;
  /** The explicit type annotation, if any (`number | null`). */
  annotation?: string;
  /** The JSON kind of a plain literal default (`30` -> number), if it is one. */
  literalKind?: 'number' | 'string' | 'boolean';
}

/**
 * The top-level `const`/`let`/`var` declarations of a parameters cell, one per
 * line, as papermill reads Python assignments.
 * @example declaredParameters('const horizon: number = 30;\nconst symbol = "BTC";')
 * // [{ name: 'horizon', annotation: 'number', literalKind: 'number' }, { name: 'symbol', literalKind: 'string' }]
 */
export function declaredParameters(source: string): DeclaredParameter[] {
  const out: DeclaredParameter[] = [];
  const decl = /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*([^=]+?))?\s*=\s*(.*?)\s*;?\s*(?:\/\/.*)?$/;
  for (const line of source.split('\n')) {
    const m = decl.exec(line);
    if (!m) continue;
    const init = m[3];
    const literalKind = NUMBER.test(init) || /^-?(NaN|Infinity)$/.test(init) ? 'number'
      : /^(['"`]).*\1$/.test(init) ? 'string'
        : init === 'true' || init === 'false' ? 'boolean' : undefined;
    out.push({ name: m[1], ...(m[2] ? { annotation: m[2].trim() } : {}), ...(literalKind ? { literalKind } : {}) });
  }
  return out;
}

function jsonKind(v: JsonValue): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** The TypeScript type written for a value: the declared one, else the widened kind, else inferred. */
function annotationFor(value: JsonValue, declared?: DeclaredParameter): string {
  if (declared?.annotation) return `: ${declared.annotation}`;
  const kind = jsonKind(value);
  return kind === 'number' || kind === 'string' || kind === 'boolean' ? `: ${kind}` : '';
}

/**
 * The injected cell's TypeScript source.
 * @example parametersSource({ horizon: 60 }) // '// Parameters injected by quantbook\nconst horizon: number = 60;'
 */
export function parametersSource(params: Parameters, declared: DeclaredParameter[] = []): string {
  const byName = new Map(declared.map((d) => [d.name, d]));
  const lines = Object.entries(params).map(([name, v]) => `const ${name}${annotationFor(v, byName.get(name))} = ${JSON.stringify(v)};`);
  return ['// Parameters injected by quantbook', ...lines].join('\n');
}

/** A notebook with its parameters injected, and what the user should know. */
export interface Injection {
  notebook: Notebook;
  /** Index of the injected cell, or -1 when there were no parameters. */
  injectedIndex: number;
  /** Index of the cell tagged `parameters`, or -1. */
  parametersIndex: number;
  warnings: string[];
}

/**
 * Injects `params` after the first cell tagged `parameters` (at the top, with
 * a warning, if none), replacing any earlier `injected-parameters` cell.
 * A name the parameters cell does not declare is a warning; a value whose kind
 * contradicts an unannotated literal default (`horizon = 30` given `"abc"`) is
 * an error, since the cell would not compile.
 * @throws NotebookError naming the notebook, the parameters cell and the parameter.
 * @example injectParameters(nb, { horizon: 60 }).injectedIndex // index of the parameters cell + 1
 */
export function injectParameters(nb: Notebook, params: Parameters, file?: string): Injection {
  for (const name of Object.keys(params)) checkParamName(name, file);
  const cells = nb.cells.filter((c) => !cellTags(c).includes('injected-parameters'));
  const parametersIndex = cells.findIndex((c) => c.cell_type === 'code' && cellTags(c).includes('parameters'));
  const warnings: string[] = [];
  const names = Object.keys(params);
  if (names.length === 0) return { notebook: { ...nb, cells }, injectedIndex: -1, parametersIndex, warnings };

  const declared = parametersIndex >= 0 ? declaredParameters(cellSource(cells[parametersIndex])) : [];
  if (parametersIndex < 0) {
    warnings.push('the notebook has no cell tagged "parameters": parameters were injected at the top');
  } else {
    for (const name of names) {
      const d = declared.find((x) => x.name === name);
      if (!d) {
        warnings.push(`parameter "${name}" is not declared in the parameters cell (cell ${parametersIndex})`);
      } else if (!d.annotation && d.literalKind && jsonKind(params[name]) !== d.literalKind) {
        throw new NotebookError(
          `parameter "${name}" must be a ${d.literalKind} like its default in the parameters cell, got ${jsonKind(params[name])} ${JSON.stringify(params[name])}`,
          { file, cell: parametersIndex, key: name },
        );
      }
    }
  }
  const injected: Cell = {
    cell_type: 'code',
    ...(nb.nbformat_minor >= 5 ? { id: newCellId() } : {}),
    metadata: { tags: ['injected-parameters'] },
    source: parametersSource(params, declared),
    outputs: [],
    execution_count: null,
  };
  const injectedIndex = parametersIndex + 1;
  const out = [...cells.slice(0, injectedIndex), injected, ...cells.slice(injectedIndex)];
  return { notebook: { ...nb, cells: out }, injectedIndex, parametersIndex, warnings };
}
