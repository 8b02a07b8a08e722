/**
 * The live page: an HTML shell, its script (no inline script, so the CSP can forbid
 * it) and plotly.js from the installed `plotly.js-dist-min` package (no CDN). The
 * script reads server-sent events with `fetch` (so a bearer token can go in a
 * header) and redraws with `Plotly.react`: recent candles, session VWAP, the fan of
 * sampled paths, the p10-p90 band, the median, the levels, and P(up) over time.
 */
import { readFileSync } from 'node:fs';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let plotly: string | undefined;
/** plotly.js (minified) from the installed package, read once. */
export function plotlyScript(): string {
  return (plotly ??= readFileSync(require.resolve('plotly.js-dist-min'), 'utf8'));
}

/**
 * The page for `symbol`. With a token (given to the page as `?access_token=`), the script URLs
 * carry it too, and the script sends it as a bearer header.
 * @example livePageHtml('BTC').includes('<div id="chart"') // true
 */
export function livePageHtml(symbol: string, token?: string): string {
  const qs = token ? `?access_token=${encodeURIComponent(token)}` : '';
  const title = `${escapeHtml(symbol)} live outlook`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 20px; margin: 0 0 6px; }
#info { font-size: 14px; margin-bottom: 8px; min-height: 1.4em; }
#status { font-size: 12px; color: #777; }
.quiet { color: #b35900; font-weight: 600; }
</style>
</head>
<body>
<h1>${title}</h1>
<div id="info">waiting for the first forecast…</div>
<div id="chart" style="height: 560px"></div>
<div id="pup" style="height: 220px"></div>
<div id="status">connecting…</div>
<script src="/plotly.min.js${qs}"></script>
<script src="/live.js${qs}"></script>
</body>
</html>
`;
}

/** The page's script (ES2017, no dependencies besides the global Plotly). */
export function livePageScript(): string {
  return `'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('access_token');
  var headers = token ? { Authorization: 'Bearer ' + token } : {};
  var chart = document.getElementById('chart');
  var pupChart = document.getElementById('pup');
  var info = document.getElementById('info');
  var statusLine = document.getElementById('status');
  var history = [];
  window.__qb = { updates: 0, asOf: null };
  var config = { displaylogo: false, responsive: true };

  function pct(x) { return (100 * x).toFixed(1) + '%'; }
  function iso(ms) { return new Date(ms).toISOString(); }

  function render(o) {
    var s = o.summary, c = o.candles;
    var x0 = s.lastBarOpen;
    var fanX = [x0].concat(s.stepTimes);
    var traces = [{
      type: 'candlestick', name: s.symbol, x: c.ts.map(iso), open: c.open, high: c.high, low: c.low, close: c.close,
      increasing: { line: { color: '#26a69a' } }, decreasing: { line: { color: '#ef5350' } }, showlegend: false
    }, {
      type: 'scatter', mode: 'lines', name: 'VWAP', x: c.ts.map(iso), y: c.vwap, line: { color: '#7b1fa2', width: 1.2, dash: 'dot' }
    }];
    o.paths.forEach(function (p, i) {
      traces.push({ type: 'scatter', mode: 'lines', name: 'paths', legendgroup: 'paths', showlegend: i === 0, x: fanX, y: [s.currentClose].concat(p),
        line: { color: 'rgba(30, 100, 200, 0.18)', width: 0.8 }, hoverinfo: 'skip' });
    });
    var levels = s.bands.levels, values = s.bands.values;
    if (levels.length >= 2) {
      var lo = 0, hi = levels.length - 1;
      traces.push({ type: 'scatter', mode: 'lines', name: 'p' + Math.round(100 * levels[lo]), x: fanX, y: [s.currentClose].concat(values[lo]), line: { color: 'rgba(255, 140, 0, 0.6)', width: 1 } });
      traces.push({ type: 'scatter', mode: 'lines', name: 'p' + Math.round(100 * levels[lo]) + '-p' + Math.round(100 * levels[hi]) + ' band', x: fanX, y: [s.currentClose].concat(values[hi]), fill: 'tonexty', fillcolor: 'rgba(255, 140, 0, 0.18)', line: { color: 'rgba(255, 140, 0, 0.6)', width: 1 } });
    }
    var mid = levels.indexOf(0.5);
    if (mid >= 0) traces.push({ type: 'scatter', mode: 'lines', name: 'median', x: fanX, y: [s.currentClose].concat(values[mid]), line: { color: '#e65100', width: 2 } });
    var end = s.stepTimes[s.stepTimes.length - 1];
    var shapes = s.barriers.map(function (b) {
      return { type: 'line', xref: 'x', yref: 'y', x0: c.ts.length ? iso(c.ts[0]) : x0, x1: end, y0: b.price, y1: b.price, line: { color: '#555', width: 1, dash: 'dash' } };
    });
    var annotations = s.barriers.map(function (b) {
      return { xref: 'x', yref: 'y', x: end, y: b.price, text: b.name + ' ' + b.price.toPrecision(6) + ' (P touch ' + pct(b.pHit) + ')', showarrow: false, xanchor: 'right', yanchor: 'bottom', font: { size: 10, color: '#555' } };
    });
    Plotly.react(chart, traces, {
      margin: { t: 30, r: 20, b: 40, l: 60 }, xaxis: { rangeslider: { visible: false }, type: 'date' }, yaxis: { title: { text: 'price' } },
      shapes: shapes, annotations: annotations, legend: { orientation: 'h' },
      title: { text: s.symbol + ' ' + s.horizon + '-bar outlook from ' + s.asOf.slice(0, 16) + 'Z', font: { size: 14 } }
    }, config);
    if (!history.length || history[history.length - 1].asOf !== s.asOf) history.push({ asOf: s.asOf, pUp: s.pUp });
    if (history.length > 500) history.splice(0, history.length - 500);
    Plotly.react(pupChart, [{ type: 'scatter', mode: 'lines+markers', name: 'P(up)', x: history.map(function (h) { return h.asOf; }), y: history.map(function (h) { return h.pUp; }), line: { color: '#1565c0' }, marker: { size: 4 } }], {
      margin: { t: 30, r: 20, b: 40, l: 60 }, yaxis: { range: [0, 1], title: { text: 'P(up)' } }, xaxis: { type: 'date' }, title: { text: 'P(up) by forecast origin', font: { size: 14 } },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 0.5, y1: 0.5, line: { color: '#999', width: 1, dash: 'dot' } }]
    }, config);
    info.textContent = s.symbol + ' as of ' + s.asOf + ': P(up) ' + pct(s.pUp) + ' ± ' + pct(s.pUpStdError) + ', expected return ' + (1e4 * s.expReturn).toFixed(1) + ' bp, close ' + s.currentClose + (s.vwap === null ? '' : ', VWAP ' + s.vwap.toPrecision(6));
    if (s.quiet) { var q = document.createElement('span'); q.className = 'quiet'; q.textContent = ' quiet window: ' + s.quietWindows.map(function (w) { return w.label; }).join(', '); info.appendChild(q); }
    chart.dataset.asOf = s.asOf;
    window.__qb.asOf = s.asOf;
    window.__qb.updates++;
  }

  function handle(block) {
    var event = 'message', data = '';
    block.split('\\n').forEach(function (line) {
      if (line.indexOf('event: ') === 0) event = line.slice(7);
      else if (line.indexOf('data: ') === 0) data += line.slice(6);
    });
    if (!data) return;
    var payload = JSON.parse(data);
    if (event === 'history') { history = payload.slice(); }
    else if (event === 'outlook') render(payload);
  }

  function stream() {
    fetch('/events', { headers: headers, cache: 'no-store' }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      statusLine.textContent = 'live';
      var reader = res.body.getReader(), decoder = new TextDecoder(), buffer = '';
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) throw new Error('stream ended');
          buffer += decoder.decode(r.value, { stream: true });
          var i;
          while ((i = buffer.indexOf('\\n\\n')) >= 0) { handle(buffer.slice(0, i)); buffer = buffer.slice(i + 2); }
          return pump();
        });
      }
      return pump();
    }).catch(function (err) {
      statusLine.textContent = 'disconnected (' + err.message + '); retrying in 3 s';
      setTimeout(stream, 3000);
    });
  }
  stream();
})();
`;
}
