/**
 * The import graph of a source tree, for the architecture test: every relative
 * import, `export ... from`, dynamic `import()` and `require()` of every `.ts`
 * file (type-only imports included: a cycle of types is still a cycle to read),
 * read with the TypeScript compiler's own pre-processor.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** File -> the files it imports, both as paths relative to the root, with `/` separators. */
export type ImportGraph = Map<string, string[]>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Resolves a relative specifier as tsc does for this project (`x.ts`, then `x/index.ts`). */
function resolveSpecifier(fromFile: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(fromFile), spec);
  return [`${base}.ts`, join(base, 'index.ts'), base].find(isFile);
}

/**
 * The import graph of every `.ts` file under `root`.
 * @throws Error naming the file and specifier when a relative import resolves to no file.
 */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  for (const file of tsFiles(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolveSpecifier(file, fileName);
      if (target === undefined) throw new Error(`${rel(file)}: cannot resolve '${fileName}'`);
      if (!targets.includes(rel(target))) targets.push(rel(target));
    }
    graph.set(rel(file), targets);
  }
  return graph;
}

/**
 * The import cycles of a graph: each strongly connected component of more than one file
 * (or a file importing itself), as one cycle through it written `a -> b -> a`, sorted.
 */
export function importCycles(graph: ImportGraph): string[] {
  // Tarjan's strongly connected components, iteration order fixed by the sorted file list.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((c) => cycleThrough(graph, new Set(c))).sort();
}

/** One cycle inside a strongly connected component: breadth-first from its first file back to it. */
function cycleThrough(graph: ImportGraph, component: Set<string>): string {
  const start = [...component].sort()[0];
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
        return [...path, start].join(' -> ');
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component].sort().join(' -> ');
}

/**
 * The module of a file for the layering rules: its top folder under the root (`forecast`
 * for `forecast/paths/stats.ts`), a subfolder for the folders listed in `split`
 * (`notebook/runner`), and the folder itself for the files directly in a split folder
 * (`notebook` for `notebook/index.ts`); `index` for the root's own files.
 */
export function moduleOf(file: string, split: readonly string[] = []): string {
  const parts = file.split('/');
  if (parts.length === 1) return 'index';
  if (split.includes(parts[0]) && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

/**
 * The imports that break the layering: `layers` lists modules from the bottom up; a module
 * may import only modules of lower layers (not its own layer's other modules, not higher ones).
 * Each offence as `from -> to (file -> imported file)`; a file whose module is in no layer
 * is an offence too, so a new folder has to be placed.
 */
export function layeringViolations(graph: ImportGraph, layers: readonly (readonly string[])[], split: readonly string[] = []): string[] {
  const rank = new Map<string, number>();
  layers.forEach((layer, i) => layer.forEach((m) => rank.set(m, i)));
  const out: string[] = [];
  for (const [file, targets] of graph) {
    const from = moduleOf(file, split);
    const r = rank.get(from);
    if (r === undefined) {
      out.push(`${file}: module '${from}' is in no layer`);
      continue;
    }
    for (const target of targets) {
      const to = moduleOf(target, split);
      if (to === from) continue;
      const t = rank.get(to);
      if (t === undefined || t >= r) out.push(`${from} -> ${to} (${file} -> ${target})`);
    }
  }
  return out.sort();
}

/**
 * Re-exports of a module under `from` by files outside it (the root's `index.ts` excepted):
 * `export ... from '<from>/...'`, and `export { x }` of a name imported from there.
 * Each as `file: name(s) from target`.
 */
export function reExportsOf(root: string, graph: ImportGraph, from: string): string[] {
  const out: string[] = [];
  const inside = (p: string | undefined) => p !== undefined && p.startsWith(`${from}/`);
  for (const file of graph.keys()) {
    if (inside(file) || file === 'index.ts') continue;
    const abs = join(root, file);
    const text = readFileSync(abs, 'utf8');
    // Only an export declaration (`export {`, `export type {`, `export *`) re-exports: skip parsing files without one.
    if (!/\bexport\s+(?:type\s+)?[{*]/.test(text)) continue;
    const source = ts.createSourceFile(abs, text, ts.ScriptTarget.Latest);
    const target = (spec: ts.Expression) => {
      const p = ts.isStringLiteral(spec) ? resolveSpecifier(abs, spec.text) : undefined;
      return p === undefined ? undefined : relative(root, p).split(sep).join('/');
    };
    const imported = new Map<string, string>();
    for (const st of source.statements) {
      if (ts.isImportDeclaration(st)) {
        const t = target(st.moduleSpecifier);
        const bindings = st.importClause?.namedBindings;
        if (inside(t) && bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) imported.set(e.name.text, t!);
      } else if (ts.isExportDeclaration(st)) {
        const names = st.exportClause && ts.isNamedExports(st.exportClause) ? st.exportClause.elements.map((e) => (e.propertyName ?? e.name).text) : ['*'];
        if (st.moduleSpecifier) {
          const t = target(st.moduleSpecifier);
          if (inside(t)) out.push(`${file}: ${names.join(', ')} from ${t}`);
        } else {
          for (const n of names) if (imported.has(n)) out.push(`${file}: ${n} from ${imported.get(n)}`);
        }
      }
    }
  }
  return out.sort();
}
