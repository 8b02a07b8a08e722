import { describe, expect, it } from 'vitest';
import { PLOTLY_MIME, RECORD_MIME, TABLE_MIME, type JsonValue } from '../../src/notebook/records/mime';
import { plotlyJs } from '../../src/plot/html';
import { cellLabel, formatTime, isScalar, recordTable } from '../../src/notebook/report/format';
import { renderReport, trimKernelFrames } from '../../src/notebook/report/html';
import { renderIndexPage } from '../../src/notebook/report/index-page';
import { statusBadge } from '../../src/notebook/report/page';
import type { Notebook } from '../../src/notebook/records/nbformat';
import type { RunInfo } from '../../src/notebook/records/run';

const EVIL = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';

function runInfo(over: Partial<RunInfo> = {}): RunInfo {
  return {
    status: 'ok', notebook: 'notebooks/x.ipynb', parameters: { symbol: EVIL, horizon: 30 },
    startTime: '2024-03-01T09:30:00.000Z', endTime: '2024-03-01T09:30:04.000Z', durationS: 4,
    kernel: { startupS: 1.5, cwd: '/repo/notebooks', implementation: 'tslab' }, libraryVersion: '0.1.0',
    git: { commit: 'abc123', dirty: false }, host: 'test host',
    records: { pUp: 0.53, label: EVIL }, warnings: [`unknown ${EVIL}`],
    provenance: [
      { kind: 'file', role: 'data', path: `data/${EVIL}.csv`, resolvedPath: '/d.csv', bytes: 2048, sha256: 'f'.repeat(64) },
      { kind: 'device', device: 'cuda', detail: 'H100' },
    ],
    ...over,
  };
}

const figure = (title: string) => ({ [PLOTLY_MIME]: { data: [{ type: 'scatter', y: [1, 2] }], layout: { title: { text: title } } }, 'text/html': '<div>loader</div>', 'text/plain': 'Figure' });

function executed(info: RunInfo): Notebook {
  return {
    nbformat: 4, nbformat_minor: 5, metadata: { quantbook: info },
    cells: [
      { cell_type: 'markdown', source: `# Title\n\n| a | b |\n|---|---|\n| 1 | ${EVIL} |\n\n[link](javascript:alert(3)) [ok](https://example.com)\n\n\`\`\`ts\nconst x = 1;\n\`\`\``, metadata: {} },
      {
        cell_type: 'code', source: `const s = "${EVIL}";`, metadata: { papermill: { status: 'completed', duration: 0.5 } }, execution_count: 1,
        outputs: [
          { output_type: 'stream', name: 'stdout', text: `out ${EVIL}\n` },
          { output_type: 'display_data', data: figure(EVIL), metadata: { quantbook: { plotlyLoader: true } } },
          { output_type: 'display_data', data: figure('second'), metadata: {} },
          { output_type: 'display_data', data: figure('third'), metadata: {} },
          { output_type: 'display_data', data: { [TABLE_MIME]: { columns: [{ name: 'c', dtype: 'str' }], height: 1, head: [[EVIL]], tail: [] }, 'text/html': '<table>' }, metadata: {} },
          { output_type: 'display_data', data: { [RECORD_MIME]: { name: 'pUp', value: 0.53 }, 'text/plain': 'pUp = 0.53' }, metadata: {} },
          { output_type: 'display_data', data: { 'text/html': `<b>user html</b>${EVIL}` }, metadata: {} },
          { output_type: 'display_data', data: { 'image/png': 'iVBORw0KGgo=' }, metadata: {} },
          { output_type: 'display_data', data: { 'image/svg+xml': '<svg onload="alert(4)"></svg>' }, metadata: {} },
          { output_type: 'stream', name: 'stderr', text: 'Error: boom\n    at evalmachine.<anonymous>:3:7\n    at Script.runInThisContext (node:vm:135:14)\n    at Object.execute (/r/node_modules/tslab/dist/executor.js:160:38)\n' },
        ],
      },
      { cell_type: 'code', source: 'never()', metadata: { papermill: { status: 'pending' } }, execution_count: null, outputs: [] },
    ],
  };
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

// The page without its 4.8 MB of plotly.js, so a failing assertion prints something readable.
function withoutPlotly(page: string): string {
  return page.replace(plotlyJs(), '/* plotly.js */');
}

describe('the HTML report', () => {
  it('renders a seeded notebook to the same page as the committed snapshot (an unintended change shows as a diff)', async () => {
    // Everything on the page comes from the notebook and its run record: no clock, no machine.
    await expect(withoutPlotly(renderReport(executed(runInfo())))).toMatchFileSnapshot('__snapshots__/report.html');
  });

  const full = renderReport(executed(runInfo()));
  const html = withoutPlotly(full);

  it('embeds plotly.js exactly once however many figures, and draws each from its JSON', () => {
    expect(count(full, 'window.Plotly = Plotly')).toBe(1);
    expect(full.length - html.length).toBeGreaterThan(plotlyJs().length * 0.99);
    expect(count(html, '<div class="figure" id="figure-')).toBe(3);
    expect(count(html, '<script type="application/json" id="figure-')).toBe(3);
    expect(html).not.toContain('<div>loader</div>'); // the notebook-side loader is never copied
  });

  it('lets no text from notebook, data or parameters open a tag or a script', () => {
    // Every <script opening is one of ours: 3 data islands, plotly.js, the draw script, the page helpers.
    expect(count(html, '<script')).toBe(3 + 3);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    // Foreign HTML shows in a sandbox that runs no script; SVG only as an image.
    expect(html).toMatch(/<iframe class="html-output" sandbox="allow-same-origin" srcdoc="&lt;b&gt;user html&lt;\/b&gt;/);
    expect(html).toContain('src="data:image/svg+xml;base64,');
    expect(html).not.toContain('<svg onload');
    // Nothing is fetched: a CSP forbids it and no tag points at the network.
    expect(html).toContain('default-src &#39;none&#39;');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)="https?:/);
  });

  it('renders markdown tables, code and links, highlights code cells and marks stderr and pending cells', () => {
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toMatch(/<table>\s*<thead>\s*<tr>\s*<th>a<\/th>/);
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer">ok</a>');
    expect(html).toContain('<span class="hljs-keyword">const</span>');
    expect(html).toContain('<details class="code" open><summary>In [1] · 0.50 s</summary>');
    expect(html).toContain('<pre class="stderr">Error: boom\n    at evalmachine.&lt;anonymous&gt;:3:7\n    (2 kernel-internal stack frames hidden');
    expect(html).toContain('<section class="cell code pending"');
    expect(html).toContain('In [ ] · not run');
    expect(html).toContain('<img class="output" alt="" src="data:image/png;base64,iVBORw0KGgo=">');
  });

  it('has a provenance header: parameters, times, commit, version, device, declared files', () => {
    expect(html).toContain('<span class="badge ok">passed</span>');
    expect(html).toContain('2024-03-01 09:30:00 UTC');
    expect(html).toContain('4.00 s (kernel start-up 1.50 s)');
    expect(html).toContain('abc123');
    expect(html).toContain('quantbook 0.1.0, kernel tslab');
    expect(html).toContain('cuda (H100)');
    expect(html).toContain(`sha256 ${'f'.repeat(64)}`);
    expect(html).toContain('2.0 KiB');
    expect(html).toContain('<td>horizon</td><td>30</td>');
    expect(html).toContain('<td>pUp</td><td>0.53</td>');
  });

  it('shows a failed run with a banner linking to the failing cell and code folded on request', () => {
    const failed = withoutPlotly(renderReport(executed(runInfo({
      status: 'failed',
      failure: { cell: 1, executedIndex: 1, kind: 'error', message: `cell 1 failed: Error: ${EVIL}`, errorText: '' },
    })), { collapseCode: true }));
    expect(failed).toContain('<div class="banner">Run failed at <a href="#cell-1">cell 1</a>: cell 1 failed: Error: &lt;/script&gt;');
    expect(failed).toContain('<span class="badge failed">failed</span>');
    expect(failed).toContain('<details class="code"><summary>');
  });

  it('trims only kernel-internal stack frames', () => {
    expect(trimKernelFrames('E\n    at f (/x.js:1:1)\n')).toBe('E\n    at f (/x.js:1:1)\n');
  });
});

describe('recorded values as tables', () => {
  it('lays out objects of rows, arrays of rows and one flat object; leaves the rest alone', () => {
    expect(recordTable({ model: { sharpe: 1.5, trades: 3 }, oracle: { sharpe: 9, dd: 0.1 } })).toEqual({
      rowHeader: '', columns: ['sharpe', 'trades', 'dd'],
      rows: [{ label: 'model', cells: [1.5, 3, undefined] }, { label: 'oracle', cells: [9, undefined, 0.1] }],
    });
    expect(recordTable([{ a: 1, b: 'x' }, { a: 2 }])).toEqual({ rowHeader: null, columns: ['a', 'b'], rows: [{ label: null, cells: [1, 'x'] }, { label: null, cells: [2, undefined] }] });
    expect(recordTable({ calm: 80, trend: 20 })).toEqual({ rowHeader: null, columns: ['calm', 'trend'], rows: [{ label: null, cells: [80, 20] }] });
    const notTables: JsonValue[] = [1, 'x', null, [1, 2], [], {}, { a: 1 }, { a: { b: { c: 1 } } }, { a: { x: 1 }, b: 2 }];
    for (const v of notTables) expect(recordTable(v)).toBeNull();
  });

  it('renders a tabular record as an escaped nested table in the report', () => {
    const html = renderReport(executed(runInfo({ records: { stats: { [EVIL]: { sharpe: 1.25, note: EVIL } } } })));
    expect(html).toContain('<table class="record-table"><tr><th></th><th>sharpe</th><th>note</th></tr><tr><th>&lt;/script&gt;');
    expect(html).toContain('<td>1.25</td>');
    expect(html).not.toContain(EVIL);
  });
});

describe('shared report formats', () => {
  it('name statuses, times, cells and scalars the same on every page', () => {
    expect(statusBadge('ok')).toBe('<span class="badge ok">passed</span>');
    expect(statusBadge('failed')).toBe('<span class="badge failed">failed</span>');
    expect(formatTime('2024-03-01T09:30:00.123Z')).toBe('2024-03-01 09:30:00 UTC');
    expect(cellLabel(4)).toBe('cell 4');
    expect(cellLabel('injected-parameters')).toBe('the injected-parameters cell');
    expect([null, true, 1, 'x', undefined, [], {}].map((v) => isScalar(v as JsonValue))).toEqual([true, true, true, true, true, false, false]);
  });
});

describe('the reports index', () => {
  it('lists every run with status, duration, parameters and key scalar records, escaped', () => {
    const html = renderIndexPage([
      { name: 'a', notebook: 'notebooks/a.ipynb', status: 'ok', startTime: '2024-03-01T09:30:00.000Z', durationS: 12.34, parameters: { s: EVIL }, records: { pUp: 0.5, bands: [1, 2], a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, html: 'a.html', ipynb: 'a.ipynb' },
      { name: 'b', notebook: 'notebooks/b.ipynb', status: 'failed', startTime: '2024-03-01T09:31:00.000Z', durationS: 1, parameters: {}, records: {}, error: `cell 2 failed: ${EVIL}` },
    ]);
    expect(html).toContain('2 runs, 1 failed.');
    expect(html).toContain('<a href="a.html">a</a> <a href="a.ipynb">.ipynb</a>');
    expect(html).toContain('<span class="badge failed">failed</span><br><small>cell 2 failed: &lt;/script&gt;');
    expect(html).toContain('12.3 s');
    expect(html).toContain('pUp = <b>0.5</b>');
    expect(html).toContain('+2 more in the report'); // 6 scalars shown; the array and the 7th left out
    expect(html).not.toContain('<img src=x');
    expect(count(html, '<script')).toBe(1);
  });
});
