/**
 * The HTML shell every quantbook page shares: a strict Content-Security-Policy
 * (nothing is fetched; the page works offline from a file), one stylesheet,
 * and at most one inlined copy of plotly.js.
 */
import { DEFAULT_PLOTLY_CONFIG, escapeHtml, plotlyJs, scriptJson } from '../../plot/html';
import { plotlyJsVersion } from '../api/plotly-html';

// No network at all: every resource is inline or a data: URI. 'unsafe-eval'
// is for plotly.js's WebGL traces, which compile shaders via Function().
const CSP = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
  + "img-src data: blob:; font-src data:; frame-src 'self'; base-uri 'none'; form-action 'none'";

const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg2:#f6f8fa;--bad:#cf222e;--badbg:#ffebe9;--ok:#1a7f37;--okbg:#dafbe1;--warn:#9a6700;--warnbg:#fff8c5;--link:#0969da}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px 20px 60px}
a{color:var(--link)}
h1{font-size:1.7em;margin:.2em 0 .4em}
pre,code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{margin:0;padding:10px 12px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--bg2)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.failed{background:var(--badbg);color:var(--bad)}.badge.pending{background:var(--bg2);color:var(--muted)}
.banner{border:2px solid var(--bad);background:var(--badbg);color:var(--bad);padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}
.warnings{border:1px solid var(--warn);background:var(--warnbg);padding:8px 14px;border-radius:6px;margin:12px 0}
.provenance td:first-child{white-space:nowrap;color:var(--muted)}
.provenance td{font-size:13px}
.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.cell{margin:14px 0}
.cell.markdown{padding:0 2px}
.cell.markdown table{margin:8px 0}
.cell.markdown pre{background:var(--bg2);border-radius:6px}
details.code{border:1px solid var(--line);border-radius:6px;background:var(--bg2)}
details.code>summary{cursor:pointer;padding:4px 10px;color:var(--muted);font-size:12px;user-select:none}
details.code pre{border-top:1px solid var(--line)}
.cell.failed details.code{border-color:var(--bad)}
.cell.pending{opacity:.55}
.outputs{margin:6px 0 0 0}
.outputs>*{margin:6px 0}
pre.stdout{background:#fff}
pre.stderr{background:var(--badbg);color:#82071e;border-left:4px solid var(--bad)}
pre.error{background:var(--badbg);color:#82071e;border-left:4px solid var(--bad);font-weight:500}
.record{font-size:13px;color:var(--muted);overflow-wrap:anywhere}.record b{color:var(--fg)}
.figure{width:100%;min-height:200px}
iframe.html-output{width:100%;border:0;min-height:40px}
img.output{max-width:100%}
table.quantbook-frame caption{caption-side:bottom;text-align:left;color:var(--muted);font-size:12px;padding-top:2px}
table.quantbook-frame td{font-variant-numeric:tabular-nums;white-space:nowrap}
table.quantbook-frame td.null{color:var(--muted);font-style:italic}
table.quantbook-frame tr.gap td{text-align:center;color:var(--muted)}
.scroll{overflow-x:auto}
table.records td:last-child{overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
table.record-table{font-size:12px}table.record-table th,table.record-table td{padding:2px 8px;font-variant-numeric:tabular-nums;white-space:nowrap}table.record-table th{text-align:left}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:12px}
.toolbar{float:right;font-size:12px}
.toolbar button{font-size:12px;margin-left:4px}
table.sortable th{cursor:pointer;white-space:nowrap}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}
table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.quantbook-frame td.num{text-align:right}
.hljs-keyword,.hljs-built_in,.hljs-literal{color:#cf222e}.hljs-string,.hljs-regexp{color:#0a3069}.hljs-comment{color:#6e7781;font-style:italic}
.hljs-number{color:#0550ae}.hljs-title,.hljs-title.function_{color:#8250df}.hljs-type,.hljs-attr,.hljs-property{color:#953800}.hljs-variable,.hljs-params{color:#24292f}
`;

/** A figure to draw: its element id and Plotly JSON. */
export interface PageFigure {
  id: string;
  figure: unknown;
}

/**
 * A figure placeholder plus its data island (read by the page's draw script).
 * @example figureBlock({ id: 'figure-1', figure: { data: [], layout: {} } }) // '<div class="figure" id="figure-1" ...></div><script type="application/json"
 * ...>'
 */
export function figureBlock(f: PageFigure, height = 450): string {
  const layout = (f.figure as { layout?: { height?: unknown } }).layout;
  const h = typeof layout?.height === 'number' ? layout.height : height;
  return `<div class="figure" id="${escapeHtml(f.id)}" style="height:${Number(h)}px"></div>`
    + `<script type="application/json" id="${escapeHtml(f.id)}-data">${scriptJson(f.figure)}</script>`;
}

// Draws every figure from its data island; a figure that fails says so in place.
const DRAW_FIGURES = `(function(){
var cfg=${scriptJson(DEFAULT_PLOTLY_CONFIG)};
document.querySelectorAll('div.figure').forEach(function(el){
  var data=document.getElementById(el.id+'-data');
  try{var fig=JSON.parse(data.textContent);Plotly.newPlot(el,fig.data,fig.layout||{},Object.assign({},cfg,fig.config||{}));}
  catch(e){el.textContent='figure could not be drawn: '+e.message;el.className+=' figure-error';}
});
})();`;

// Sizes sandboxed HTML outputs to their content (allowed by allow-same-origin; their scripts never run).
const SIZE_IFRAMES = `(function(){
function fit(f){try{var d=f.contentDocument;if(d&&d.body)f.style.height=(d.documentElement.scrollHeight+4)+'px';}catch(e){}}
document.querySelectorAll('iframe.html-output').forEach(function(f){f.addEventListener('load',function(){fit(f);});fit(f);});
})();`;

// Click a header of a table.sortable to sort by it (numbers numerically, then text).
const SORTABLE = `(function(){
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
    var asc=th.getAttribute('aria-sort')!=='ascending';
    t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    function key(r){var c=r.cells[i];var v=c?c.getAttribute('data-sort')||c.textContent:'';var n=parseFloat(v);return isNaN(n)||!/^[-+]?[0-9.]/.test(v)?{s:v}:{n:n};}
    rows.sort(function(a,b){var x=key(a),y=key(b);var r=('n' in x&&'n' in y)?x.n-y.n:('n' in x)?-1:('n' in y)?1:x.s.localeCompare(y.s);return asc?r:-r;});
    rows.forEach(function(r){body.appendChild(r);});
  });});
});
})();`;

// Expand or fold every code cell.
const CODE_TOGGLE = `(function(){
document.querySelectorAll('[data-code]').forEach(function(b){b.addEventListener('click',function(){
  var open=b.getAttribute('data-code')==='show';document.querySelectorAll('details.code').forEach(function(d){d.open=open;});
});});
})();`;

/**
 * A run's status as a badge: `passed` (class `ok`) for 'ok', `failed` for anything else.
 * @example statusBadge('ok') // '<span class="badge ok">passed</span>'
 */
export function statusBadge(status: string): string {
  return status === 'ok' ? '<span class="badge ok">passed</span>' : '<span class="badge failed">failed</span>';
}

/** Options of {@link htmlPage}. */
export interface PageOptions {
  title: string;
  body: string;
  /** Figures placed in `body` with {@link figureBlock}; plotly.js is inlined once when there are any. */
  hasFigures?: boolean;
}

/**
 * A complete, self-contained HTML document. `body` must already be escaped
 * HTML; `title` is escaped here.
 * @example htmlPage({ title: 'x', body: '<p>hi</p>' }) // '<!doctype html>...'
 */
export function htmlPage(p: PageOptions): string {
  const scripts = [SIZE_IFRAMES, SORTABLE, CODE_TOGGLE];
  const plotly = p.hasFigures
    ? `<script>/* plotly.js ${escapeHtml(plotlyJsVersion())} */\n${plotlyJs()}\n</script>\n<script>${DRAW_FIGURES}</script>\n`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="quantbook">
<link rel="icon" href="data:,">
<title>${escapeHtml(p.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${p.body}
</main>
${plotly}<script>${scripts.join('\n')}</script>
</body>
</html>
`;
}
