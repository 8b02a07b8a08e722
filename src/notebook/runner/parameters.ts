/**
 * Notebook parameters with papermill's conventions: values from `-f file.yaml`,
 * then `-y 'yaml'`, then `-p name value` (later wins), injected as TypeScript
 * `const` declarations in a cell tagged `injected-parameters` right after the
 * first cell tagged `parameters`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, NotebookError } from '../../core/errors';
import { toJsonValue } from '../api/display';
import type { JsonValue } from '../records/mime';
import { cellSource, cellTags, newCellId, type Cell, type Notebook } from '../records/nbformat';
import type { Parameters } from '../records/run';

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
  + 'implements interface let package private protected public static yield await').split(' '));
// Globals strict-mode TypeScript does not let a module redeclare.
const BUILTIN = new Set(['arguments', 'eval', 'undefined', 'NaN', 'Infinity']);

// Names tslab's cell wrapper `(function(exports, require) { Object.defineProperty(exports, ...) ... })` needs itself.
const TSLAB_WRAPPER = new Set(['exports', 'require', 'Object']);

/**
 * Why `name` cannot be declared as a TypeScript `const` in a tslab cell, or
 * undefined when it can. Refused: the empty name; anything but an ASCII
 * identifier; reserved words; `arguments`, `eval`, `undefined`, `NaN`,
 * `Infinity`; names starting with `__` (tslab mangles them to
 * `___`, so later cells cannot see them: `__proto__`, `__dirname`); and
 * `exports`, `require` and `Object`, which tslab's cell wrapper uses.
 * @example paramNameProblem('class') // 'it is a reserved word'
 * @example paramNameProblem('nPaths') // undefined
 */
export function paramNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return 'it is not an identifier (a letter, _ or $, then letters, digits, _ or $)';
  if (RESERVED.has(name)) return 'it is a reserved word';
  if (BUILTIN.has(name)) return 'strict-mode TypeScript does not let a module redeclare this built-in';
  if (name.startsWith('__')) return 'tslab renames names that start with "__", so later cells would not see it';
  if (TSLAB_WRAPPER.has(name)) return "tslab's cell wrapper uses this name itself";
  return undefined;
}

/**
 * Checks that `name` can be a TypeScript `const` (see {@link paramNameProblem}).
 * @param source - where the name came from, for the message (`-p`, `-y`, `-f params.yaml`, `--grid`).
 * @throws ConfigError naming the parameter, where it came from and why.
 * @example checkParamName('nPaths') // ok; checkParamName('n-paths', undefined, '-p') // throws
 */
export function checkParamName(name: string, file?: string, source?: string): void {
  const problem = paramNameProblem(name);
  if (problem) {
    throw new ConfigError(`parameter name ${JSON.stringify(name)}${source ? ` (from ${source})` : ''} cannot be declared as a TypeScript const: ${problem}`,
      { file, key: name });
  }
}

/**
 * The path and value of the first number in `value` that is not finite (NaN, ±Infinity), searching
 * arrays and objects; a cycle (YAML aliases can make one) is not followed, toJsonValue reports it.
 * @example nonFiniteAt([1, { a: Infinity }], 'w') // { path: 'w[1].a', value: Infinity }
 */
function nonFiniteAt(value: unknown, path: string, seen = new Set<object>()): { path: string; value: number } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, value };
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v])
    : Object.entries(value).map(([k, v]) => [/^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, v]);
  for (const [p, v] of entries) {
    const hit = nonFiniteAt(v, p, seen);
    if (hit) return hit;
  }
  seen.delete(value);
  return undefined;
}

/**
 * The one rule every parameter source follows (`-p`, `-y`, `-f`, `--grid`, a
 * sweep config, the library API): the name can be declared as a TypeScript
 * `const` ({@link paramNameProblem}) and every number in the value, at any
 * depth, is finite (JSON has no NaN or Infinity: `1e400` overflows to
 * Infinity, YAML's `.inf` and `.nan` are not numbers JSON can hold).
 * @param source - where the parameter came from, for the message (`-p`, `--grid`, ...).
 * @param raw - the text as typed, shown when given.
 * @throws ConfigError naming the parameter, its source and the offending value.
 * @example checkParameter('n', 1e400, '-p') // throws 'parameter "n" (from -p) is Infinity: parameters must be finite numbers ...'
 */
export function checkParameter(name: string, value: unknown, source?: string, file?: string, raw?: string): void {
  checkParamName(name, file, source);
  const bad = nonFiniteAt(value, name);
  if (bad) {
    const where = bad.path === name ? '' : ` holds ${bad.value} at ${bad.path}`;
    throw new ConfigError(
      `parameter "${name}"${source ? ` (from ${source})` : ''}${where || ` is ${bad.value}`}: parameters must be finite numbers (JSON has no NaN or Infinity; a literal beyond ±1.8e308 overflows)`,
      { file, key: name, ...(raw !== undefined ? { value: raw } : {}) },
    );
  }
}

/** An empty parameter dictionary with no prototype, so a user's key never meets Object.prototype. */
export function emptyParameters(): Parameters {
  return Object.create(null) as Parameters;
}

function yamlMapping(text: string, source: string, file?: string): Map<string, JsonValue> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`parameters in ${source} are not valid YAML: ${(err as Error).message.split('\n')[0]}`, { file });
  }
  const out = new Map<string, JsonValue>();
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`parameters in ${source} must be a YAML mapping of name: value`, { file });
  for (const [name, value] of Object.entries(doc)) {
    checkParameter(name, value, source, file);
    try {
      out.set(name, toJsonValue(value));
    } catch (err) {
      throw new ConfigError(`parameter "${name}" (from ${source}): ${(err as NotebookError).problem ?? String(err)}`, { file, key: name });
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
 * later wins) and checks every name and value with {@link checkParameter}.
 * @returns a dictionary without prototype (see {@link emptyParameters}).
 * @throws NotebookError for unreadable files; ConfigError for bad YAML, a name that cannot be a
 *   `const`, or a number that is not finite, naming the parameter and its flag.
 * @example collectParameters({ pairs: [['horizon', '30']] }) // { horizon: 30 }
 */
export function collectParameters(src: ParameterSources, notebook?: string): Parameters {
  const merged = new Map<string, JsonValue>();
  for (const f of src.files ?? []) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      throw new NotebookError('cannot read parameters file', { file: f });
    }
    for (const [k, v] of yamlMapping(text, `-f ${f}`, notebook)) merged.set(k, v);
  }
  for (const y of src.yaml ?? []) for (const [k, v] of yamlMapping(y, '-y', notebook)) merged.set(k, v);
  for (const [name, raw] of src.pairs ?? []) {
    const value = parseParamValue(raw);
    checkParameter(name, value, '-p', notebook, raw);
    merged.set(name, value);
  }
  const params = emptyParameters();
  for (const [k, v] of merged) params[k] = v;
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

// Characters JSON.stringify leaves raw but TypeScript's scanner ends a string literal at.
const LINE_SEPARATORS = /[\u2028\u2029]/g;

function tsString(s: string): string {
  return JSON.stringify(s).replace(LINE_SEPARATORS, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * A JSON value as TypeScript source that evaluates to the same value: JSON
 * (which escapes quotes, backslashes, control characters and lone
 * surrogates), plus `\u2028`/`\u2029` escaped (TypeScript ends a string
 * literal at them), `-0` kept, and a `"__proto__"` key written as a computed
 * key (a plain one would set the object's prototype instead of a property).
 * @throws ConfigError for a number that is not finite (JSON would write null).
 * @example tsLiteral({ a: [1, 'x\u2028'] }) // '{"a":[1,"x\\u2028"]}'
 */
export function tsLiteral(value: JsonValue): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigError(`cannot write ${value} as a parameter: parameters must be finite numbers`, { value });
    return Object.is(value, -0) ? '-0' : JSON.stringify(value);
  }
  if (typeof value === 'string') return tsString(value);
  if (Array.isArray(value)) return `[${value.map(tsLiteral).join(',')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${k === '__proto__' ? `[${tsString(k)}]` : tsString(k)}:${tsLiteral(v)}`).join(',')}}`;
}

/**
 * The injected cell's TypeScript source (values written by {@link tsLiteral}).
 * @example parametersSource({ horizon: 60 }) // '// Parameters injected by quantbook\nconst horizon: number = 60;'
 */
export function parametersSource(params: Parameters, declared: DeclaredParameter[] = []): string {
  const byName = new Map(declared.map((d) => [d.name, d]));
  const lines = Object.entries(params).map(([name, v]) => `const ${name}${annotationFor(v, byName.get(name))} = ${tsLiteral(v)};`);
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
 * @throws NotebookError naming the notebook, the parameters cell and the parameter;
 *   ConfigError for a name or value {@link checkParameter} refuses.
 * @example injectParameters(nb, { horizon: 60 }).injectedIndex // index of the parameters cell + 1
 */
export function injectParameters(nb: Notebook, params: Parameters, file?: string): Injection {
  for (const [name, value] of Object.entries(params)) checkParameter(name, value, undefined, file);
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
