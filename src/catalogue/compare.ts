/**
 * Side-by-side comparison of catalogued runs: what each ran with and what it recorded, with
 * the lines that differ marked, as text for a terminal or a self-contained HTML page.
 */
import { escapeHtml } from '../plot/html';
import type { CatalogueJson } from './store';

/** One compared field: its name and one shown value per run. */
export interface ComparisonLine {
  field: string;
  values: string[];
  /** True when the runs do not all hold the same value. */
  differs: boolean;
}

/** A comparison of runs (see {@link compareRows}). */
export interface Comparison {
  ids: string[];
  lines: ComparisonLine[];
}

function shown(v: CatalogueJson | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return JSON.stringify(v);
}

function objectOf(v: CatalogueJson | undefined): Record<string, CatalogueJson> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/**
 * Lines of a comparison: the run's facts, then every parameter (`param.NAME`) and record
 * (`record.NAME`) any of the runs has, sorted by name. Numbers show 6 significant digits.
 * @example compareRows(rows).lines.filter((l) => l.differs).map((l) => l.field) // ['param.seed', 'record.pUp']
 */
export function compareRows(rows: ReadonlyArray<Record<string, CatalogueJson>>): Comparison {
  const lines: ComparisonLine[] = [];
  const add = (field: string, values: string[]) => lines.push({ field, values, differs: new Set(values).size > 1 });
  for (const f of ['command', 'notebook', 'status', 'time', 'duration_s', 'git_commit', 'git_dirty', 'host', 'version', 'sweep_id', 'error']) {
    add(f, rows.map((r) => (f === 'duration_s' && typeof r[f] === 'number' ? (r[f] as number).toFixed(2) : shown(r[f]))));
  }
  add('data', rows.map((r) => (Array.isArray(r.data) ? r.data.map((d) => `${shown(objectOf(d).path)} ${shown(objectOf(d).sha256).slice(0, 12)}`).join('; ') : '')));
  for (const [column, prefix] of [['parameters', 'param'], ['records', 'record']] as const) {
    const keys = [...new Set(rows.flatMap((r) => Object.keys(objectOf(r[column]))))].sort();
    for (const k of keys) add(`${prefix}.${k}`, rows.map((r) => shown(objectOf(r[column])[k])));
  }
  return { ids: rows.map((r) => String(r.id)), lines };
}

/**
 * The comparison as aligned text; differing lines start with `*`.
 * @example comparisonText(c).split('\n')[0] // '  field  r2026...-a1  r2026...-b2'
 */
export function comparisonText(c: Comparison, maxWidth = 40): string {
  const cut = (s: string) => (s.length > maxWidth ? `${s.slice(0, maxWidth - 3)}...` : s);
  const table = [['field', ...c.ids], ...c.lines.map((l) => [l.field, ...l.values])].map((r) => r.map(cut));
  const widths = table[0].map((_, j) => Math.max(...table.map((r) => r[j].length)));
  return table.map((r, i) => `${i > 0 && c.lines[i - 1].differs ? '*' : ' '} ${r.map((x, j) => x.padEnd(widths[j])).join('  ').trimEnd()}`).join('\n');
}

/**
 * The comparison as a self-contained HTML page (no script, no external resource); differing
 * lines are highlighted and listed first in a summary line.
 * @example writeFileAtomic('cmp.html', comparisonHtml(c))
 */
export function comparisonHtml(c: Comparison): string {
  const differing = c.lines.filter((l) => l.differs).map((l) => l.field);
  const head = `<tr><th>field</th>${c.ids.map((id) => `<th>${escapeHtml(id)}</th>`).join('')}</tr>`;
  const body = c.lines.map((l) => `<tr${l.differs ? ' class="diff"' : ''}><th>${escapeHtml(l.field)}</th>${l.values.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>quantbook: comparison of ${c.ids.length} runs</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;max-width:32em;overflow-wrap:anywhere}
thead th{background:#f4f4f4}tr.diff td,tr.diff th{background:#fff3c4}tbody th{font-weight:600;white-space:nowrap}
</style></head><body>
<h1>Comparison of ${c.ids.length} runs</h1>
<p>${differing.length} of ${c.lines.length} fields differ${differing.length ? `: ${differing.map(escapeHtml).join(', ')}` : ''}. Differing lines are highlighted.</p>
<table><thead>${head}</thead><tbody>
${body}
</tbody></table></body></html>
`;
}
