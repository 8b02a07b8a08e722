/**
 * A standalone HTML page showing Plotly figures, with plotly.js embedded from
 * the installed `plotly.js-dist-min` package: no CDN, opens offline.
 */
import { readFileSync } from 'node:fs';
import type { Figure } from './figure';

let plotlySource: string | undefined;

/** The plotly.js bundle's source, read once from node_modules. */
export function plotlyJs(): string {
  if (plotlySource === undefined) {
    const src = readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
    // An HTML parser ends a script element at "</script" even inside a string.
    plotlySource = src.replace(/<\/script/gi, '<\\/script');
  }
  return plotlySource;
}

/** Plotly config every quantbook figure gets unless the figure overrides it (pages, reports, notebook outputs). */
export const DEFAULT_PLOTLY_CONFIG = { responsive: true, displaylogo: false };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON that is safe inside a script element (no "</script>", no HTML comment openers). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Options of {@link figureToHtml}. */
export interface FigureHtmlOptions {
  /** A paragraph under the title (plain text, escaped). */
  description?: string;
}

/**
 * Renders figures into one self-contained HTML page (about 4.9 MB, most of it
 * plotly.js), one interactive plot per figure, in order.
 *
 * @param figures - one figure or several.
 * @param title - page title and heading (plain text, escaped).
 * @param options - optional description paragraph.
 * @example
 * writeFileAtomic('out/calibration.html', figureToHtml([reliabilityFigure(table)], 'Calibration of pUp'));
 */
export function figureToHtml(figures: Figure | Figure[], title: string, options: FigureHtmlOptions = {}): string {
  const figs = Array.isArray(figures) ? figures : [figures];
  const divs = figs.map((_, i) => `<div id="figure-${i}" class="figure"></div>`).join('\n');
  const calls = figs
    .map((f, i) => {
      const config = { ...DEFAULT_PLOTLY_CONFIG, ...(f.config ?? {}) };
      return `Plotly.newPlot('figure-${i}', ${scriptJson(f.data)}, ${scriptJson(f.layout)}, ${scriptJson(config)});`;
    })
    .join('\n');
  const description = options.description === undefined ? '' : `<p>${escapeHtml(options.description)}</p>\n`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1000px; padding: 0 1rem; color: #222; }
.figure { width: 100%; min-height: 480px; margin-bottom: 2rem; }
</style>
<script>${plotlyJs()}</script>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${description}${divs}
<script>
${calls}
</script>
</body>
</html>
`;
}
