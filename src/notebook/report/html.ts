/**
 * An executed notebook as one self-contained HTML report: a provenance header,
 * then every cell in order with its outputs. Everything is rendered from the
 * `.ipynb` alone (run facts live in `metadata.quantbook`), so any executed
 * notebook can be re-rendered later.
 */
import { basename } from 'node:path';
import { escapeHtml } from '../../plot/html';
import { tableHtml } from '../api/frame-table';
import { cellLabel, formatBytes, formatDuration, formatJson, formatTime, recordTable } from './format';
import {
  PLOTLY_LOADER_FLAG, PLOTLY_MIME, PROVENANCE_MIME, RECORD_MIME, TABLE_MIME,
  type JsonValue, type ProvenancePayload, type RecordPayload, type TablePayload,
} from '../records/mime';
import { cellSource, cellTags, type Cell, type Notebook, type Output } from '../records/nbformat';
import type { RunInfo } from '../records/run';
import { highlightCode, renderMarkdown } from './markdown';
import { figureBlock, htmlPage, statusBadge } from './page';

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** Start with code cells folded. Default false. */
  collapseCode?: boolean;
  /** Page title; default the notebook's file name. */
  title?: string;
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

function text(v: unknown): string {
  return Array.isArray(v) ? v.join('') : String(v ?? '');
}

class FigureIds {
  private n = 0;
  next(): string {
    return `figure-${++this.n}`;
  }
  get count(): number {
    return this.n;
  }
}

function renderBundle(data: Record<string, unknown>, metadata: Record<string, unknown>, figures: FigureIds): string {
  if (data[PLOTLY_MIME]) return figureBlock({ id: figures.next(), figure: data[PLOTLY_MIME] });
  if (data[TABLE_MIME]) return `<div class="scroll">${tableHtml(data[TABLE_MIME] as TablePayload)}</div>`;
  if (data[RECORD_MIME]) {
    const r = data[RECORD_MIME] as RecordPayload;
    return `<div class="record">recorded <b>${escapeHtml(String(r.name))}</b> = ${escapeHtml(formatJson(r.value))}</div>`;
  }
  if (data[PROVENANCE_MIME]) return `<div class="record">${escapeHtml(text(data['text/plain']))}</div>`;
  if ((metadata.quantbook as Record<string, unknown> | undefined)?.[PLOTLY_LOADER_FLAG] && Object.keys(data).length === 1) return '';
  for (const mime of ['image/png', 'image/jpeg', 'image/gif']) {
    const b64 = text(data[mime]);
    if (data[mime] !== undefined && BASE64.test(b64)) return `<img class="output" alt="" src="data:${mime};base64,${b64.replace(/\s/g, '')}">`;
  }
  if (data['image/svg+xml'] !== undefined) {
    // As an <img>, an SVG's scripts never run.
    return `<img class="output" alt="" src="data:image/svg+xml;base64,${Buffer.from(text(data['image/svg+xml'])).toString('base64')}">`;
  }
  if (data['text/markdown'] !== undefined) return `<div class="markdown-output">${renderMarkdown(text(data['text/markdown']))}</div>`;
  if (data['text/html'] !== undefined) {
    // Foreign HTML goes into a sandbox without scripts: it shows, it cannot act.
    return `<iframe class="html-output" sandbox="allow-same-origin" srcdoc="${escapeHtml(text(data['text/html']))}"></iframe>`;
  }
  if (data['application/json'] !== undefined) return `<pre class="stdout">${escapeHtml(JSON.stringify(data['application/json'], null, 2))}</pre>`;
  if (data['text/plain'] !== undefined) return `<pre class="stdout">${escapeHtml(text(data['text/plain']).replace(ANSI, ''))}</pre>`;
  const types = Object.keys(data).join(', ');
  return `<pre class="stderr">output with no renderable type (${escapeHtml(types)})</pre>`;
}

// Stack frames of the kernel's own machinery say nothing about the notebook.
const KERNEL_FRAME = /^\s+at .*(node_modules[\\/]tslab[\\/]|\(node:vm:|sigintHandlersWrap).*$/;

/**
 * stderr text without tslab's and node:vm's stack frames, saying how many were hidden.
 * @example trimKernelFrames('E\n    at x (node:vm:1:1)\n') // 'E\n    (1 kernel-internal stack frames hidden; the .ipynb has them)\n'
 */
export function trimKernelFrames(stderr: string): string {
  const lines = stderr.split('\n');
  const kept = lines.filter((l) => !KERNEL_FRAME.test(l));
  const hidden = lines.length - kept.length;
  return hidden > 0 ? `${kept.join('\n').trimEnd()}\n    (${hidden} kernel-internal stack frames hidden; the .ipynb has them)\n` : stderr;
}

function renderOutput(out: Output, figures: FigureIds): string {
  switch (out.output_type) {
    case 'stream':
      if (out.name === 'stderr') return `<pre class="stderr">${escapeHtml(trimKernelFrames(text(out.text).replace(ANSI, '')))}</pre>`;
      return `<pre class="stdout">${escapeHtml(text(out.text).replace(ANSI, ''))}</pre>`;
    case 'display_data':
    case 'execute_result':
      return renderBundle(out.data, out.metadata ?? {}, figures);
    case 'error':
      return `<pre class="error">${escapeHtml(`${out.ename}: ${out.evalue}\n${out.traceback.join('\n')}`.replace(ANSI, ''))}</pre>`;
    default:
      return '';
  }
}

function cellStatus(cell: Cell): 'completed' | 'failed' | 'pending' | undefined {
  return (cell.metadata.papermill as { status?: 'completed' | 'failed' | 'pending' } | undefined)?.status;
}

function renderCell(cell: Cell, index: number, figures: FigureIds, opts: ReportOptions): string {
  const tags = cellTags(cell);
  if (tags.includes('papermill-error-cell-tag')) return ''; // the report draws its own banner
  const source = cellSource(cell);
  if (cell.cell_type === 'markdown') return `<section class="cell markdown" id="cell-${index}">${renderMarkdown(source)}</section>`;
  if (cell.cell_type === 'raw') return `<section class="cell raw" id="cell-${index}"><pre>${escapeHtml(source)}</pre></section>`;
  const status = cellStatus(cell);
  const pm = cell.metadata.papermill as { duration?: number | null } | undefined;
  const count = cell.execution_count ?? ' ';
  const label = [
    `In [${count}]`,
    tags.includes('parameters') ? 'parameters' : '',
    tags.includes('injected-parameters') ? 'injected parameters' : '',
    typeof pm?.duration === 'number' ? formatDuration(pm.duration) : '',
    status === 'failed' ? 'FAILED' : status === 'pending' ? 'not run' : '',
  ].filter(Boolean).join(' · ');
  const outputs = (cell.outputs ?? []).map((o) => renderOutput(o, figures)).filter(Boolean).join('\n');
  const cls = status === 'failed' ? ' failed' : status === 'pending' ? ' pending' : '';
  return `<section class="cell code${cls}" id="cell-${index}">`
    + `<details class="code"${opts.collapseCode ? '' : ' open'}><summary>${escapeHtml(label)}</summary>`
    + `<pre><code class="hljs language-typescript">${highlightCode(source)}</code></pre></details>`
    + (outputs ? `<div class="outputs">${outputs}</div>` : '')
    + '</section>';
}

function row(name: string, valueHtml: string): string {
  return `<tr><td>${escapeHtml(name)}</td><td>${valueHtml}</td></tr>`;
}

function renderHeader(info: RunInfo | undefined, title: string): string {
  if (!info) return `<h1>${escapeHtml(title)}</h1><p class="warnings">This notebook has no quantbook run record (it was not executed by quantbook run).</p>`;
  const params = Object.entries(info.parameters);
  const files = info.provenance.filter((p): p is Extract<ProvenancePayload, { kind: 'file' }> => p.kind === 'file');
  const devices = info.provenance.filter((p): p is Extract<ProvenancePayload, { kind: 'device' }> => p.kind === 'device');
  const notes = info.provenance.filter((p): p is Extract<ProvenancePayload, { kind: 'note' }> => p.kind === 'note');
  const git = info.git ? `<span class="hash">${escapeHtml(info.git.commit)}</span>${info.git.dirty ? ' (with uncommitted changes)' : ''}` : 'not a git checkout';
  const device = devices.length
    ? devices.map((d) => escapeHtml(d.detail ? `${d.device} (${d.detail})` : d.device)).join('<br>')
    : 'CPU (the notebook declared no device)';
  const rows = [
    row('status', statusBadge(info.status)),
    row('notebook', escapeHtml(info.notebook)),
    row('parameters', params.length
      ? `<table>${params.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(JSON.stringify(v))}</td></tr>`).join('')}</table>`
      : 'defaults (none injected)'),
    row('started', escapeHtml(formatTime(info.startTime))),
    row('duration', `${escapeHtml(formatDuration(info.durationS))} (kernel start-up ${escapeHtml(formatDuration(info.kernel.startupS))})`),
    row('git commit', git),
    row('library', `quantbook ${escapeHtml(info.libraryVersion)}, kernel ${escapeHtml(info.kernel.implementation)}`),
    row('device', device),
    row('host', escapeHtml(info.host)),
  ];
  if (files.length) {
    rows.push(row('declared files', `<table>${files.map((f) => `<tr><td>${escapeHtml(f.role)}</td><td>${escapeHtml(f.path)}</td>`
      + `<td>${escapeHtml(formatBytes(f.bytes))}</td><td class="hash">sha256 ${escapeHtml(f.sha256)}</td></tr>`).join('')}</table>`));
  }
  for (const n of notes) rows.push(row(n.key, escapeHtml(n.value)));
  const records = Object.entries(info.records);
  const banner = info.failure
    ? `<div class="banner">Run failed at <a href="#cell-${info.failure.executedIndex}">${escapeHtml(cellLabel(info.failure.cell))}</a>: ${escapeHtml(info.failure.message)}</div>`
    : '';
  const warnings = info.warnings.length ? `<div class="warnings"><b>Warnings</b><ul>${info.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>` : '';
  return `<h1>${escapeHtml(title)}</h1>${banner}${warnings}`
    + `<table class="provenance">${rows.join('')}</table>`
    + (records.length
      ? `<h2>Recorded values</h2><div class="scroll"><table class="records">${records.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${recordValueHtml(v)}</td></tr>`).join('')}</table></div>`
      : '');
}

/** A recorded value: a nested table when it is one (see {@link recordTable}), else its JSON in one line. */
function recordValueHtml(v: JsonValue): string {
  const t = recordTable(v);
  if (!t) return escapeHtml(formatJson(v));
  const head = `<tr>${t.rowHeader === null ? '' : `<th>${escapeHtml(t.rowHeader)}</th>`}${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.label === null ? '' : `<th>${escapeHtml(r.label)}</th>`}${r.cells.map((c) => `<td>${escapeHtml(formatJson(c))}</td>`).join('')}</tr>`).join('');
  return `<table class="record-table">${head}${body}</table>`;
}

/**
 * The HTML report of an executed notebook. All text is escaped; HTML outputs
 * are shown in script-less sandboxed frames; figures are drawn from their
 * Plotly JSON with one inlined plotly.js.
 * @example writeFileAtomic('reports/x.html', renderReport(readNotebook('reports/x.ipynb')))
 */
export function renderReport(nb: Notebook, opts: ReportOptions = {}): string {
  const info = nb.metadata.quantbook as RunInfo | undefined;
  const title = opts.title ?? basename(info?.notebook ?? 'notebook.ipynb');
  const figures = new FigureIds();
  const cells = nb.cells.map((c, i) => renderCell(c, i, figures, opts)).filter(Boolean).join('\n');
  const toolbar = '<div class="toolbar">code: <button type="button" data-code="show">show all</button><button type="button" data-code="hide">hide all</button></div>';
  const body = `${toolbar}${renderHeader(info, title)}<h2>Notebook</h2>${cells}`;
  return htmlPage({ title, body, hasFigures: figures.count > 0 });
}
