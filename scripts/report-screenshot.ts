/**
 * `npm run docs:screenshot [-- report.html out.png figureIndex]`: a screenshot of a
 * report in headless Chromium, for the README. Defaults: `reports/03-kelly-backtest.html`
 * (run `npm run report` first), its first figure, into `docs/report-03-kelly-backtest.png`.
 * Waits until every Plotly figure has drawn, fails on a console error or on a request that
 * leaves the machine (a report must work offline), and captures the
 * chosen figure.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../src/core/output';
import { packageRoot } from '../src/notebook/runner/build';
import { withChromium } from '../src/plot/browser';

async function main(): Promise<void> {
  const root = packageRoot();
  const [reportArg, outArg, figureArg] = process.argv.slice(2);
  const report = resolve(reportArg ?? join(root, 'reports', '03-kelly-backtest.html'));
  const out = resolve(outArg ?? join(root, 'docs', 'report-03-kelly-backtest.png'));
  const figureIndex = figureArg === undefined ? 0 : Number(figureArg);
  if (!existsSync(report)) throw new Error(`no report at ${report}: run \`npm run report\` first`);
  if (!Number.isInteger(figureIndex) || figureIndex < 0) throw new Error(`figure index must be a whole number >= 0, got ${figureArg}`);
  await withChromium({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 }, async (browser) => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => { if (!/^(file:|data:|blob:)/.test(r.url())) problems.push(`request left the machine: ${r.url()}`); });
    await page.goto(pathToFileURL(report).href);
    const figures = await page.$$('.figure');
    if (figureIndex >= figures.length) throw new Error(`${report} has ${figures.length} figures; asked for index ${figureIndex}`);
    await page.waitForFunction((n) => document.querySelectorAll('.figure .main-svg').length >= n, figures.length, { timeout: 60_000 });
    const box = await figures[figureIndex].boundingBox();
    if (!box) throw new Error('the figure is not laid out');
    const top = Math.max(0, box.y - 24);
    const height = Math.min(box.y + box.height + 16 - top, 1600);
    await page.setViewportSize({ width: 1100, height: Math.ceil(top + height) });
    const png = await page.screenshot({ type: 'png', clip: { x: 0, y: top, width: 1100, height } });
    if (problems.length) throw new Error(problems.join('\n'));
    writeFileAtomic(out, png); // only a clean capture replaces the README's image
    console.log(`${out}: ${report}, figure ${figureIndex + 1} of ${figures.length}, 1100 x ${Math.round(height)} px`);
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
