/**
 * The comparison page of a sweep: a sortable table of every combination and
 * one chart per recorded numeric metric against each swept parameter.
 */
import { ownValue } from '../../core/dict';
import { metricVsParameterFigure, type SweepPoint } from '../../plot/sweep';
import { escapeHtml } from '../../plot/html';
import type { SweepResult } from '../records/sweep';
import type { JsonValue } from '../records/mime';
import { formatDuration, formatJson, recordColumn, recordNames } from './format';
import { figureBlock, htmlPage, statusBadge } from './page';

/**
 * The sweep's comparison page.
 * @example writeFileAtomic('out/index.html', renderSweepPage(result, 'sample'))
 */
export function renderSweepPage(result: SweepResult, title: string): string {
  const params = result.axes.map((a) => a.name);
  const records = recordNames(result.rows);
  const ok = result.rows.filter((r) => r.summary.status === 'ok');
  const failed = result.rows.length - ok.length;
  const cell = (v: JsonValue | undefined) => {
    const text = formatJson(v);
    return typeof v === 'number' ? `<td class="num" data-sort="${v}">${escapeHtml(text)}</td>` : `<td>${escapeHtml(text)}</td>`;
  };
  const rows = result.rows.map((r) => {
    const link = r.summary.html ? `<a href="runs/${escapeHtml(encodeURI(r.summary.html))}">${r.index}</a>` : String(r.index);
    const status = statusBadge(r.summary.status)
      + (r.summary.error ? `<br><small>${escapeHtml(r.summary.error)}</small>` : '');
    return `<tr><td class="num" data-sort="${r.index}">${link}</td><td>${status}</td>`
      + `<td class="num" data-sort="${Number.isFinite(r.summary.durationS) ? r.summary.durationS : ''}">${escapeHtml(formatDuration(r.summary.durationS))}</td>`
      + params.map((p) => cell(ownValue(r.combination, p))).join('') + records.map((k) => cell(ownValue(r.summary.records, k))).join('') + '</tr>';
  }).join('\n');
  const head = ['#', 'status', 'duration', ...params, ...records.map((k) => recordColumn(k, result.axes))].map((h) => `<th>${escapeHtml(h)}</th>`).join('');

  // A record that repeats a swept parameter would chart the parameter against itself.
  const numericMetrics = records.filter((k) => !params.includes(k) && ok.some((r) => typeof ownValue(r.summary.records, k) === 'number'));
  let n = 0;
  const charts: string[] = [];
  for (const metric of numericMetrics) {
    for (const p of params) {
      const points: SweepPoint[] = ok
        .filter((r) => typeof ownValue(r.summary.records, metric) === 'number')
        .map((r) => ({
          x: r.combination[p] as SweepPoint['x'],
          y: r.summary.records[metric] as number,
          group: params.filter((q) => q !== p).map((q) => `${q}=${formatJson(r.combination[q])}`).join(', '),
        }));
      charts.push(`<div class="chart">${figureBlock({ id: `chart-${++n}`, figure: metricVsParameterFigure(points, metric, p) }, 340)}</div>`);
    }
  }
  const fixed = Object.entries(result.fixed);
  const body = `<h1>Sweep: ${escapeHtml(title)}</h1>`
    + `<p>${escapeHtml(`${result.rows.length} ${result.rows.length === 1 ? 'combination' : 'combinations'}, ${failed} failed, ${formatDuration(result.durationS)} in all.`)} `
    + 'Also as <a href="results.csv">results.csv</a> and <a href="results.json">results.json</a>.</p>'
    + `<p>Swept: ${result.axes.map((a) => `<b>${escapeHtml(a.name)}</b> = ${escapeHtml(a.values.map((v) => JSON.stringify(v)).join(', '))}`).join('; ')}`
    + (fixed.length ? `<br>Fixed: ${fixed.map(([k, v]) => `${escapeHtml(k)} = ${escapeHtml(JSON.stringify(v))}`).join('; ')}` : '') + '</p>'
    + `<div class="scroll"><table class="sortable sweep"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`
    + (charts.length ? `<h2>Recorded metrics against each parameter</h2><div class="charts">${charts.join('\n')}</div>` : '<p>No numeric metric was recorded by a passing combination, so there is nothing to chart.</p>');
  return htmlPage({ title: `Sweep: ${title}`, body, hasFigures: charts.length > 0 });
}
