/**
 * `npm run check:jupyter`: proves a notebook renders interactively in a real
 * Jupyter front end, offline. Starts Debian's classic `jupyter notebook`
 * server with the tslab kernel spec (temporary prefix), opens a copy of the
 * sample notebook in headless Chromium, runs all cells, and checks that every
 * `show(figure)` output drew (`.main-svg`), the frame table rendered, and no
 * request left the machine. Saves a screenshot under .cache/.
 * (JupyterLab is not packaged by Debian; its HTML output rendering is the same.)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../src/core/output';
import { packageRoot } from '../src/notebook/runner/build';
import { installKernelSpec, prefixJupyterPath } from '../src/notebook/runner/kernelspec';
import { withChromium } from '../src/plot/browser';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function main(): Promise<void> {
  const root = packageRoot();
  const notebook = join(root, 'notebooks', `_frontend-check-${process.pid}.ipynb`);
  copyFileSync(join(root, 'notebooks', '00-pipeline-sample.ipynb'), notebook);
  const prefix = mkdtempSync(join(tmpdir(), 'qb-jupyter-'));
  installKernelSpec({ kind: 'prefix', prefix });
  const port = await freePort();
  const server = spawn('jupyter', ['notebook', '--allow-root', '--no-browser', `--port=${port}`, '--ip=127.0.0.1',
    "--NotebookApp.token=''", "--NotebookApp.password=''", `--notebook-dir=${root}`], {
    env: { ...process.env, JUPYTER_PATH: prefixJupyterPath(prefix), PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    stdio: 'ignore', detached: true,
  });
  try {
    await withChromium({ viewport: { width: 1280, height: 900 } }, async (browser) => {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on('request', (r) => { if (!/^(http:\/\/127\.0\.0\.1|data:|blob:)/.test(r.url())) external.push(r.url()); });
      const url = `http://127.0.0.1:${port}/notebooks/notebooks/${basename(notebook)}`;
      for (let i = 0; ; i++) {
        try {
          await page.goto(url);
          break;
        } catch (err) {
          if (i > 60) throw err;
          await new Promise((r) => setTimeout(r, 500)); // the server is still starting
        }
      }
      await page.waitForFunction(
        () => (window as never as { Jupyter?: { notebook?: { kernel?: { is_connected(): boolean } } } }).Jupyter?.notebook?.kernel?.is_connected(),
        null,
        { timeout: 60_000 },
      );
      await page.evaluate(() => (window as never as { Jupyter: { notebook: { execute_all_cells(): void } } }).Jupyter.notebook.execute_all_cells());
      await page.waitForFunction(() => document.querySelectorAll('.output_area .quantbook-figure .main-svg').length >= 2
        && document.querySelectorAll('.output_area table.quantbook-frame').length >= 1, null, { timeout: 120_000 });
      const perFigure = await page.$$eval('.output_area .quantbook-figure', (els) => els.map((e) => e.querySelectorAll('.main-svg').length));
      const shotDir = join(root, '.cache');
      const figures = await page.$$('.output_area .quantbook-figure');
      await figures[0].scrollIntoViewIfNeeded();
      writeFileAtomic(join(shotDir, 'jupyter-frontend.png'), await page.screenshot({ type: 'png' }));
      console.log(`figures drawn (main-svg per figure): ${perFigure.join(', ')}`);
      console.log(`requests leaving the machine: ${external.length ? external.join(', ') : 'none'}`);
      console.log(`screenshot: ${join(shotDir, 'jupyter-frontend.png')}`);
      if (perFigure.some((n) => n === 0) || external.length) process.exitCode = 1;
    });
  } finally {
    if (server.pid) process.kill(-server.pid, 'SIGTERM');
    rmSync(notebook, { force: true });
    // Only our copy's checkpoint: the folder may hold the user's own.
    const checkpoints = join(root, 'notebooks', '.ipynb_checkpoints');
    rmSync(join(checkpoints, basename(notebook).replace(/\.ipynb$/, '-checkpoint.ipynb')), { force: true });
    try {
      rmdirSync(checkpoints);
    } catch {
      // not empty, or never created
    }
    rmSync(prefix, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
