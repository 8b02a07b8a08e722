/**
 * The whole pipeline on the sample notebook, as users run it: `quantbook
 * report` headless (kernel started in notebooks/), the report opened in
 * headless Chromium, and the same notebook executed by Jupyter's own
 * machinery (nbconvert with the registered tslab kernel).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { PLOTLY_MIME, TABLE_MIME } from '../../src/notebook/records/mime';
import { withChromium } from '../../src/plot/browser';
import { chromiumPath } from '../../src/plot/chromium';
import { figureHtml, plotlyLoaderHtml } from '../../src/notebook/api/plotly-html';
import { installKernelSpec, prefixJupyterPath } from '../../src/notebook/runner/kernelspec';
import { readNotebook, type Notebook } from '../../src/notebook/records/nbformat';
import { collectDeclarations } from '../../src/notebook/runner/run';
import { REPO_ROOT } from '../support/paths';

const run = promisify(execFile);
const SAMPLE = join(REPO_ROOT, 'notebooks', '00-pipeline-sample.ipynb');
const CHROMIUM = chromiumPath();

/** The sample's P(up) and mean return, computed here independently of the notebook. */
function expectedSample(seed: number, nPaths: number, horizon = 30, drift = 0.00002, vol = 0.0008) {
  const rng = new Rng(seed);
  let up = 0;
  let sum = 0;
  for (let p = 0; p < nPaths; p++) {
    let price = 100;
    for (let t = 1; t <= horizon; t++) price *= Math.exp(drift - 0.5 * vol ** 2 + vol * rng.normal());
    if (price > 100) up++;
    sum += price / 100 - 1;
  }
  return { pUp: up / nPaths, expectedReturnBp: (sum / nPaths) * 1e4 };
}

function hasJupyter(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import nbconvert, jupyter_client'], { stdio: 'ignore' }).status === 0;
}

const HAS_CHROMIUM = existsSync(CHROMIUM);
const HAS_JUPYTER = hasJupyter();
if (!HAS_CHROMIUM) console.warn(`SKIPPED: the report-in-a-browser test needs Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does it)`);
if (!HAS_JUPYTER) console.warn('SKIPPED: the nbconvert test needs Debian\'s jupyter-nbconvert (/usr/bin/python3 with nbconvert and jupyter_client)');

describe('quantbook report on the sample notebook', () => {
  const out = mkdtempSync(join(tmpdir(), 'qb-report-'));
  let stdout = '';
  let nb: Notebook;
  beforeAll(async () => {
    const r = await run(process.execPath, [join(REPO_ROOT, 'bin/quantbook.js'), 'report', SAMPLE, '-o', out, '-p', 'nPaths', '200', '-p', 'seed', '7', '-q', '--no-build'], { cwd: REPO_ROOT });
    stdout = r.stdout;
    nb = readNotebook(join(out, '00-pipeline-sample.ipynb'));
  });

  it('passes, writes the executed notebook, its report and the index, and says so', () => {
    expect(stdout).toMatch(/^passed {2}00-pipeline-sample {2}[\d.]+ s -> .*00-pipeline-sample.html\nindex: .*index.html \(1 passed, 0 failed\)\n$/);
    for (const f of ['00-pipeline-sample.html', '00-pipeline-sample.ipynb', '00-pipeline-sample.run.json', 'index.html']) {
      expect(existsSync(join(out, f))).toBe(true);
    }
  });

  it('injected the parameters after the parameters cell and recorded them in the metadata', () => {
    const tags = nb.cells.map((c) => (c.metadata.tags as string[] | undefined)?.[0] ?? '');
    expect(tags.indexOf('injected-parameters')).toBe(tags.indexOf('parameters') + 1);
    expect(nb.metadata.papermill).toMatchObject({ parameters: { nPaths: 200, seed: 7 }, exception: false });
  });

  it('computed with the injected parameters: the records match an independent computation', () => {
    const { records } = collectDeclarations(nb.cells);
    const want = expectedSample(7, 200);
    expect(records.nPaths).toBe(200);
    expect(records.pUp).toBe(want.pUp);
    expect(records.expectedReturnBp as number).toBeCloseTo(want.expectedReturnBp, 10);
  });

  it('ran the kernel in notebooks/, as JupyterLab does: relative paths resolve the same', () => {
    const info = nb.metadata.quantbook as { kernel: { cwd: string }; provenance: Array<{ kind: string; resolvedPath?: string; sha256?: string }> };
    expect(info.kernel.cwd).toBe(join(REPO_ROOT, 'notebooks'));
    const file = info.provenance.find((p) => p.kind === 'file');
    expect(file?.resolvedPath).toBe(join(REPO_ROOT, 'package.json'));
    expect(file?.sha256).toBe(createHash('sha256').update(readFileSync(join(REPO_ROOT, 'package.json'))).digest('hex'));
  });

  it('kept each figure as Plotly JSON (plotly.js sent once) and the long frame as head and tail', () => {
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'display_data');
    const figures = outputs.filter((o) => o.output_type === 'display_data' && o.data[PLOTLY_MIME]);
    expect(figures).toHaveLength(2);
    expect(figures.map((f) => (f.output_type === 'display_data' ? f.metadata : {}))).toEqual([{ quantbook: { plotlyLoader: true } }, {}]);
    const table = outputs.find((o) => o.output_type === 'display_data' && o.data[TABLE_MIME]);
    const payload = table?.output_type === 'display_data' ? (table.data[TABLE_MIME] as { height: number; head: unknown[]; tail: unknown[] }) : undefined;
    expect([payload?.height, payload?.head.length, payload?.tail.length]).toEqual([31, 10, 10]);
  });

  it('lists the run in the index with its key recorded values', () => {
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toContain('<a href="00-pipeline-sample.html">00-pipeline-sample</a>');
    expect(index).toContain(`pUp = <b>${expectedSample(7, 200).pUp}</b>`);
  });

  it.skipIf(!HAS_CHROMIUM)('renders every figure in headless Chromium with no console errors', async () => {
    await withChromium({}, async (browser) => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      const requests: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
      await page.goto(`file://${join(out, '00-pipeline-sample.html')}`);
      await page.waitForFunction(() => Array.from(document.querySelectorAll('div.figure')).every((f) => f.querySelector('.main-svg')), null, { timeout: 30_000 });
      const perFigure = await page.$$eval('div.figure', (figs) => figs.map((f) => f.querySelectorAll('.main-svg').length));
      expect(perFigure).toHaveLength(2);
      for (const n of perFigure) expect(n).toBeGreaterThan(0);
      expect(await page.$$eval('.figure-error', (e) => e.length)).toBe(0);
      const shotDir = join(REPO_ROOT, '.cache', 'notebook-tests');
      mkdirSync(shotDir, { recursive: true });
      await page.screenshot({ path: join(shotDir, 'sample-report.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);

      // In JupyterLab outputs may render out of order (windowed notebooks): a
      // figure output that arrives before the one carrying plotly.js waits for it.
      const page2 = join(out, 'out-of-order.html');
      writeFileSync(page2, `<!doctype html><meta charset="utf-8"><body>${figureHtml({ data: [{ type: 'bar', y: [1, 3, 2] }], layout: {} })}${plotlyLoaderHtml()}</body>`);
      await page.goto(`file://${page2}`);
      await page.waitForSelector('.quantbook-figure .main-svg', { timeout: 30_000 });
      expect(errors).toEqual([]);
    });
  });
});

describe.skipIf(!HAS_JUPYTER)('the same notebook through Jupyter (nbconvert --execute, tslab kernel spec)', () => {
  it('executes from notebooks/ with the registered kernel and records the same values', async () => {
    const prefix = mkdtempSync(join(tmpdir(), 'qb-jupyter-'));
    installKernelSpec({ kind: 'prefix', prefix });
    const outDir = mkdtempSync(join(tmpdir(), 'qb-nbconvert-'));
    await run('/usr/bin/python3', ['-m', 'nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=tslab', SAMPLE, '--output-dir', outDir], {
      cwd: REPO_ROOT, env: { ...process.env, JUPYTER_PATH: prefixJupyterPath(prefix), PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    });
    const executed = readNotebook(join(outDir, '00-pipeline-sample.ipynb'));
    const { records, provenance } = collectDeclarations(executed.cells);
    const want = expectedSample(42, 500);
    expect(records.pUp).toBe(want.pUp);
    expect(records.nPaths).toBe(500);
    expect(provenance.find((p) => p.kind === 'file')).toMatchObject({ resolvedPath: join(REPO_ROOT, 'package.json') });
  });
});
