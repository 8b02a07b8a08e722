/**
 * plotly.js for notebook outputs: the loader (plotly.js from the installed
 * `plotly.js-dist-min` via `plotlyJs()`, never a CDN) and figure snippets that
 * draw with it. Used by `show(figure)` in the kernel and by the HTML reports.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Figure } from '../../plot/figure';
import { DEFAULT_PLOTLY_CONFIG, plotlyJs, scriptJson } from '../../plot/html';

let plotlyVersion: string | undefined;

/**
 * The installed plotly.js version, read once from its package.json (every report page names it).
 * @example plotlyJsVersion() // '3.7.0'
 */
export function plotlyJsVersion(): string {
  plotlyVersion ??= (JSON.parse(readFileSync(require.resolve('plotly.js-dist-min/package.json'), 'utf8')) as { version: string }).version;
  return plotlyVersion;
}

/**
 * A `<script>` defining `window.Plotly`, then running figure draws queued
 * while it was missing (outputs may render in any order).
 * @example plotlyLoaderHtml().startsWith('<script type="text/javascript">/* plotly.js') // true
 */
export function plotlyLoaderHtml(): string {
  return `<script type="text/javascript">/* plotly.js ${plotlyJsVersion()}, inlined by quantbook */\n`
    + `${plotlyJs()}\n`
    + ';(function(){var q=window.__quantbookPlotlyQueue||[];window.__quantbookPlotlyQueue=[];q.forEach(function(f){f();});})();\n'
    + '</script>';
}

/**
 * A `<div>` plus a script that draws `figure` with `window.Plotly` (now, or
 * when the loader runs). If plotly.js never arrives (a notebook reopened after
 * its first figure output was cleared) the div says so instead of staying blank.
 * @example figureHtml({ data: [{ y: [1, 2] }], layout: {} }) // '<div id="quantbook-fig-..." ...></div>\n<script ...>...</script>'
 */
export function figureHtml(figure: Figure, height = 450): string {
  const id = `quantbook-fig-${randomUUID()}`;
  const layoutHeight = typeof figure.layout?.height === 'number' ? figure.layout.height : height;
  return `<div id="${id}" class="quantbook-figure" style="width:100%;height:${Number(layoutHeight)}px"></div>\n`
    + '<script type="text/javascript">(function(){'
    + `var fig=${scriptJson(figure)};var id=${scriptJson(id)};`
    + `var config=Object.assign(${scriptJson(DEFAULT_PLOTLY_CONFIG)},fig.config||{});`
    + 'function draw(){var el=document.getElementById(id);if(!el)return;el.textContent="";window.Plotly.newPlot(el,fig.data,fig.layout||{},config);}'
    + 'if(window.Plotly){draw();return;}'
    + '(window.__quantbookPlotlyQueue=window.__quantbookPlotlyQueue||[]).push(draw);'
    + 'setTimeout(function(){var el=document.getElementById(id);if(!window.Plotly&&el)'
    + 'el.textContent="plotly.js is not loaded on this page: re-run the notebook from the top, or run loadPlotly() in a cell.";},10000);'
    + '})();</script>';
}
