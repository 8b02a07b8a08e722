/**
 * `reports/index.html`: every run in the folder with its status, duration,
 * parameters and key recorded values, linking to each report.
 */
import { escapeHtml } from '../../plot/html';
import type { JsonValue } from '../records/mime';
import type { RunSummary } from '../records/run';
import { formatDuration, formatJson, formatTime, isScalar } from './format';
import { htmlPage, statusBadge } from './page';

/** How many scalar records the index shows per run. */
const KEY_RECORDS_SHOWN = 6;

/**
 * The first {@link KEY_RECORDS_SHOWN} scalar records, and how many others exist.
 * @example keyRecords({ pUp: 0.5, bands: [1, 2] }) // { shown: [['pUp', 0.5]], more: 1 }
 */
function keyRecords(records: Record<string, JsonValue>): { shown: Array<[string, JsonValue]>; more: number } {
  const all = Object.entries(records);
  const shown = all.filter(([, v]) => isScalar(v)).slice(0, KEY_RECORDS_SHOWN);
  return { shown, more: all.length - shown.length };
}

/**
 * The index page of a reports folder.
 * @example writeFileAtomic('reports/index.html', renderIndexPage(readSummaries('reports')))
 */
export function renderIndexPage(runs: RunSummary[]): string {
  const failed = runs.filter((r) => r.status !== 'ok').length;
  const rows = runs.map((r) => {
    const name = r.html ? `<a href="${escapeHtml(encodeURI(r.html))}">${escapeHtml(r.name)}</a>` : escapeHtml(r.name);
    const ipynb = r.ipynb ? ` <a href="${escapeHtml(encodeURI(r.ipynb))}">.ipynb</a>` : '';
    const params = Object.entries(r.parameters).map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(JSON.stringify(v))}`).join('<br>');
    const { shown, more } = keyRecords(r.records);
    const recs = shown.map(([k, v]) => `${escapeHtml(k)} = <b>${escapeHtml(formatJson(v))}</b>`).join('<br>') + (more > 0 ? `<br><small>+${more} more in the report</small>` : '');
    return `<tr><td data-sort="${escapeHtml(r.name)}">${name}${ipynb}</td>`
      + `<td>${statusBadge(r.status)}${r.error ? `<br><small>${escapeHtml(r.error)}</small>` : ''}</td>`
      + `<td>${escapeHtml(formatTime(r.startTime))}</td>`
      + `<td class="num" data-sort="${Number.isFinite(r.durationS) ? r.durationS : ''}">${escapeHtml(formatDuration(r.durationS))}</td>`
      + `<td>${params || '<small>defaults</small>'}</td><td>${recs}</td></tr>`;
  }).join('\n');
  const summary = runs.length === 0 ? 'No runs yet.' : `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}, ${failed} failed.`;
  const body = `<h1>quantbook reports</h1><p>${escapeHtml(summary)}</p>`
    + '<div class="scroll"><table class="sortable runs"><thead><tr><th>notebook</th><th>status</th><th>started</th><th>duration</th><th>parameters</th><th>key recorded values</th></tr></thead>'
    + `<tbody>${rows}</tbody></table></div>`;
  return htmlPage({ title: 'quantbook reports', body });
}
