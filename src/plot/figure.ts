/**
 * A Plotly figure as plain JSON: what every `src/plot` function returns and
 * what `show(figure)` and the HTML report render. No plotly.js code is needed
 * to build one.
 */
export interface Figure {
  /** Plotly traces (scatter, candlestick, bar, histogram, ...). */
  data: Array<Record<string, unknown>>;
  /** Plotly layout (title, axes, shapes, ...). */
  layout: Record<string, unknown>;
  /** Optional Plotly config (displaylogo, responsive, ...). */
  config?: Record<string, unknown>;
}

/** True when `x` looks like a Plotly figure object (has a `data` array). */
export function isFigure(x: unknown): x is Figure {
  return typeof x === 'object' && x !== null && Array.isArray((x as { data?: unknown }).data);
}
