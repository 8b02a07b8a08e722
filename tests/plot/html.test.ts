import { describe, expect, it } from 'vitest';
import { escapeHtml, figureToHtml, scriptJson } from '../../src/plot/html';

describe('figureToHtml', () => {
  const fig = { data: [{ type: 'scatter', x: [1, 2], y: [3, 4], name: '</script><b>x' }], layout: { title: { text: 'a & b' } } };

  it('embeds plotly.js (no CDN) and one plot per figure', () => {
    const html = figureToHtml([fig, fig], 'Calibration <report>');
    // Booleans, not string matchers: a failing matcher would diff 4.8 MB.
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.includes('plotly.js v3')).toBe(true);
    expect(/<script[^>]+src=/.test(html)).toBe(false);
    expect(html.includes("Plotly.newPlot('figure-0'")).toBe(true);
    expect(html.includes("Plotly.newPlot('figure-1'")).toBe(true);
    expect(html.includes('<title>Calibration &lt;report&gt;</title>')).toBe(true);
    expect(html.length).toBeGreaterThan(4_000_000);
  });

  it('keeps figure JSON from closing the script element', () => {
    const html = figureToHtml(fig, 't');
    const body = html.slice(html.lastIndexOf('<script>'));
    expect(body.match(/<\/script>/g)?.length).toBe(1);
    expect(body.includes('\\u003c/script\\u003e\\u003cb\\u003ex')).toBe(true);
    expect(JSON.parse(scriptJson(fig.data))).toEqual(fig.data);
  });

  it('escapes text', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
