/**
 * Figures of forecast leaderboards: CRPS per forecast step, one line per forecaster, and the
 * leaderboard itself as a table.
 */
import type { Leaderboard } from '../forecast/compare';
import type { Figure } from './figure';

const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#953800', '#6e7781'];

/**
 * Mean CRPS at steps 1..h, one line per forecaster (the leaderboard's order).
 * @example crpsByHorizonFigure(board).data.length // board.rows.length
 */
export function crpsByHorizonFigure(board: Leaderboard, opts: { title?: string } = {}): Figure {
  return {
    data: board.rows.map((r, i) => ({
      type: 'scatter',
      mode: 'lines+markers',
      name: r.name,
      x: r.crpsByStep.map((_, h) => h + 1),
      y: r.crpsByStep,
      line: { color: PALETTE[i % PALETTE.length] },
      hovertemplate: `${r.name}<br>step %{x}<br>CRPS %{y:.4g}<extra></extra>`,
    })),
    layout: {
      title: { text: opts.title ?? `CRPS per forecast step (${board.origins} origins, every ${board.every} bars)` },
      xaxis: { title: { text: 'step ahead (bars)' }, dtick: board.horizon <= 12 ? 1 : undefined },
      yaxis: { title: { text: 'mean CRPS (price units)' } },
      legend: { orientation: 'h' },
    },
  };
}

/**
 * The leaderboard as a Plotly table: rank, forecaster, each metric with its standard error, DM statistic and p-value.
 * @example leaderboardTableFigure(board).data[0].type // 'table'
 */
export function leaderboardTableFigure(board: Leaderboard): Figure {
  const f = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : String(x));
  const rows = board.rows;
  return {
    data: [
      {
        type: 'table',
        header: { values: ['rank', 'forecaster', 'CRPS ± se', 'pct_return_mae ± se', 'cov80 ± se', 'WQL', 'DM vs best', 'p'], align: 'left' },
        cells: {
          values: [
            rows.map((_, i) => i + 1),
            rows.map((r) => r.name),
            rows.map((r) => `${f(r.crps.mean)} ± ${f(r.crps.se)}`),
            rows.map((r) => `${r.pctReturnMae.mean.toFixed(6)} ± ${r.pctReturnMae.se.toFixed(6)}`),
            rows.map((r) => `${r.coverage80.mean.toFixed(3)} ± ${r.coverage80.se.toFixed(3)}`),
            rows.map((r) => r.pooled.wql.toFixed(6)),
            rows.map((r) => (r.dm ? r.dm.stat.toFixed(2) : 'best')),
            rows.map((r) => (r.dm ? r.dm.pValue.toFixed(3) : '')),
          ],
          align: 'left',
        },
      },
    ],
    layout: { title: { text: `Leaderboard, horizon ${board.horizon}: HAC standard errors (Bartlett, lag ${board.hacLag}), Diebold-Mariano on CRPS` }, height: 120 + 30 * rows.length },
  };
}
