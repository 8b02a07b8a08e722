/**
 * Service metrics in the Prometheus text exposition format (version 0.0.4):
 * request counts by route and status, forecast latency histograms (live loop and
 * on-demand), skipped bars by reason and live stream gauges.
 * Reference: https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import { Histogram } from '../live/histogram';
import { SKIP_REASONS, type LiveStats } from '../live/loop';

/** Counters the service keeps itself (the loop keeps its own {@link LiveStats}). */
export class ServiceMetrics {
  /** `route status` -> count; routes are the registered patterns, so the label set stays small. */
  readonly requests = new Map<string, number>();
  readonly onDemandLatency = new Histogram();
  readonly requestLatency = new Histogram();
  openStreams = 0;
  refusedStreams = 0;
  onDemandRefused = 0;

  /** Counts one finished request. */
  request(route: string, status: number, seconds: number): void {
    const key = `${route} ${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    this.requestLatency.observe(seconds);
  }
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function histogramLines(name: string, h: Histogram, labels: string): string[] {
  const sep = labels ? ',' : '';
  const cum = h.cumulative();
  const lines = h.bounds.map((b, i) => `${name}_bucket{${labels}${sep}le="${b}"} ${cum[i]}`);
  lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${cum[cum.length - 1]}`);
  const l = labels ? `{${labels}}` : '';
  lines.push(`${name}_sum${l} ${h.sum}`, `${name}_count${l} ${h.count}`);
  return lines;
}

/**
 * The metrics page. `loop` is absent when the service runs without a live source.
 * @example prometheusText(metrics, session.loop.stats) // '# HELP quantbook_http_requests_total ...'
 */
export function prometheusText(m: ServiceMetrics, loop?: LiveStats): string {
  const out: string[] = [];
  out.push('# HELP quantbook_http_requests_total HTTP requests by route pattern and status.', '# TYPE quantbook_http_requests_total counter');
  for (const [key, n] of [...m.requests].sort()) {
    const [route, status] = key.split(' ');
    out.push(`quantbook_http_requests_total{route="${esc(route)}",status="${status}"} ${n}`);
  }
  out.push('# HELP quantbook_http_request_duration_seconds Time to answer a request (streams: to open them).', '# TYPE quantbook_http_request_duration_seconds histogram');
  out.push(...histogramLines('quantbook_http_request_duration_seconds', m.requestLatency, ''));
  out.push('# HELP quantbook_forecast_duration_seconds Wall time of one forecast: the live loop per bar, or on demand.', '# TYPE quantbook_forecast_duration_seconds histogram');
  if (loop) out.push(...histogramLines('quantbook_forecast_duration_seconds', loop.latency, 'kind="live"'));
  out.push(...histogramLines('quantbook_forecast_duration_seconds', m.onDemandLatency, 'kind="on_demand"'));
  out.push('# HELP quantbook_live_streams_open Live page event streams open now.', '# TYPE quantbook_live_streams_open gauge', `quantbook_live_streams_open ${m.openStreams}`);
  out.push('# HELP quantbook_live_streams_refused_total Event streams refused at the concurrency limit.', '# TYPE quantbook_live_streams_refused_total counter', `quantbook_live_streams_refused_total ${m.refusedStreams}`);
  out.push('# HELP quantbook_on_demand_refused_total On-demand forecasts refused while others ran.', '# TYPE quantbook_on_demand_refused_total counter', `quantbook_on_demand_refused_total ${m.onDemandRefused}`);
  if (loop) {
    out.push('# HELP quantbook_bars_received_total Closed bars received by the live loop.', '# TYPE quantbook_bars_received_total counter', `quantbook_bars_received_total ${loop.barsReceived}`);
    out.push('# HELP quantbook_forecasts_total Forecasts made by the live loop.', '# TYPE quantbook_forecasts_total counter', `quantbook_forecasts_total ${loop.forecasts}`);
    out.push('# HELP quantbook_bars_skipped_total Bars the live loop did not forecast, by reason.', '# TYPE quantbook_bars_skipped_total counter');
    for (const r of SKIP_REASONS) out.push(`quantbook_bars_skipped_total{reason="${r}"} ${loop.skipped[r]}`);
    out.push('# HELP quantbook_missing_bars_total Session bars missing between received bars.', '# TYPE quantbook_missing_bars_total counter', `quantbook_missing_bars_total ${loop.missingBars}`);
    out.push('# HELP quantbook_backfilled_bars_total Missing bars the live loop fetched over REST.', '# TYPE quantbook_backfilled_bars_total counter', `quantbook_backfilled_bars_total ${loop.backfilledBars}`);
    out.push('# HELP quantbook_backfill_failures_total Backfill calls that threw (error) or gave fewer bars than missing (short).', '# TYPE quantbook_backfill_failures_total counter',
      `quantbook_backfill_failures_total{kind="error"} ${loop.backfillFailures}`, `quantbook_backfill_failures_total{kind="short"} ${loop.backfillShort}`);
    out.push('# HELP quantbook_sink_failures_total Failed summary writes or publishes, by sink.', '# TYPE quantbook_sink_failures_total counter');
    for (const [name, n] of Object.entries(loop.sinkFailures)) out.push(`quantbook_sink_failures_total{sink="${esc(name)}"} ${n}`);
  }
  return `${out.join('\n')}\n`;
}
