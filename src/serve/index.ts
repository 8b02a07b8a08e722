/**
 * The forecast service: Fastify routes (/forecast, /health, /metrics, the live page
 * and its event stream), Prometheus metrics, and the page itself.
 */
export { buildServer, SECURITY_HEADERS } from './app';
export type { ForecastServer, OnDemandParams, OutlookProvider, ServeOptions } from './app';
export { prometheusText, ServiceMetrics } from './metrics';
export { livePageHtml, livePageScript, plotlyScript } from './page';
