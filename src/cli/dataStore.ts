/**
 * `quantbook data fetch` and `quantbook data store list|inspect`: pull bars and funding from
 * exchanges and brokers into a local bar store, and look at what a store holds.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import {
  FETCH_INTERVALS,
  SOURCES,
  fetchToStore,
  locateStore,
  readManifest,
  streamProgress,
  type FetchReport,
  type SeriesEntry,
} from '../data';
import { ConfigError } from '../core/errors';
import { int, parseFlags } from './options';
import { parseDuration } from '../data';

const fetchFlags = z.object({
  source: z.enum(SOURCES),
  symbols: z.array(z.string().min(1)).min(1),
  interval: z.enum(FETCH_INTERVALS),
  start: z.string(),
  end: z.string().optional(),
  funding: z.boolean().optional(),
  mark: z.boolean().optional(),
  to: z.string().min(1),
  baseUrl: z.string().url().optional(),
  feed: z.enum(['iex', 'sip']).optional(),
  adjustment: z.enum(['raw', 'split', 'dividend', 'all']).optional(),
  timeout: z.string().optional(),
  retries: int(0).optional(),
  json: z.boolean().optional(),
});

/** The flags of `data fetch` as `fetchToStore` options, checked. */
export function fetchOptionsFromFlags(raw: unknown): z.infer<typeof fetchFlags> & { timeoutMs?: number } {
  const f = parseFlags(fetchFlags, raw);
  return { ...f, ...(f.timeout ? { timeoutMs: parseDuration(f.timeout) } : {}) };
}

function fmtEntry(e: SeriesEntry): string {
  const span = e.first && e.last ? `${e.first.slice(0, 16).replace('T', ' ')} .. ${e.last.slice(0, 16).replace('T', ' ')}` : '-';
  const gaps = e.gaps ? `${e.gaps.count} (${e.gaps.missingBars} bars)` : e.kind === 'funding' ? '-' : 'n/a';
  return `  ${e.kind.padEnd(8)}${e.source.padEnd(17)}${e.symbol.padEnd(14)}${(e.interval ?? '-').padEnd(5)}${String(e.rows).padStart(9)}  ${span.padEnd(38)}${gaps.padEnd(16)}${String(e.pending.length).padStart(8)}  ${e.updated.slice(0, 19).replace('T', ' ')}`;
}

function storeRoot(path: string): string {
  const loc = locateStore(path);
  if (!loc || loc.prefix !== '') throw new ConfigError('not the root of a bar store (a folder with quantbook-store.json)', { key: 'STORE', value: path });
  return loc.root;
}

/**
 * The `data store list` table: one line per series (kind, source, symbol, interval, rows, span,
 * known gaps, pending ranges, last update).
 * @example storeListText('store') // 'store: 2 series, updated ...\n  kind    source ...'
 */
export function storeListText(path: string): string {
  const m = readManifest(storeRoot(path));
  const entries = Object.values(m.series).sort((a, b) => (a.kind + a.source + a.symbol + (a.interval ?? '')).localeCompare(b.kind + b.source + b.symbol + (b.interval ?? '')));
  return [
    `${path}: ${entries.length} series, created ${m.created.slice(0, 19).replace('T', ' ')} UTC, updated ${m.updated.slice(0, 19).replace('T', ' ')} UTC`,
    `  ${'kind'.padEnd(8)}${'source'.padEnd(17)}${'symbol'.padEnd(14)}${'bar'.padEnd(5)}${'rows'.padStart(9)}  ${'span (UTC)'.padEnd(38)}${'gaps'.padEnd(16)}${'pending'.padStart(8)}  updated (UTC)`,
    ...entries.map(fmtEntry),
  ].join('\n');
}

/**
 * The `data store inspect` text: each series with its fetched and pending ranges, month files
 * and the largest known gaps.
 */
export function storeInspectText(path: string, symbol?: string): string {
  const m = readManifest(storeRoot(path));
  const entries = Object.entries(m.series).filter(([, e]) => !symbol || e.symbol === symbol);
  if (entries.length === 0) throw new ConfigError(`the store holds no series${symbol ? ` of ${symbol}` : ''}`, { key: '--symbol', value: symbol });
  const lines: string[] = [];
  for (const [key, e] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${key}`);
    lines.push(`  rows       ${e.rows}`);
    lines.push(`  span       ${e.first ?? '-'} .. ${e.last ?? '-'}`);
    lines.push(`  fetched    ${e.fetched.map(([a, b]) => `${a} .. ${b}`).join('; ') || '-'}`);
    lines.push(`  pending    ${e.pending.map(([a, b]) => `${a} .. ${b}`).join('; ') || 'none'}`);
    lines.push(`  months     ${e.months.join(', ') || '-'}`);
    if (e.options) lines.push(`  options    ${Object.entries(e.options).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    if (e.gaps) {
      lines.push(`  gaps       ${e.gaps.count} runs, ${e.gaps.missingBars} bars missing at the provider${e.gaps.largest.length ? '; largest:' : ''}`);
      for (const [a, b] of e.gaps.largest) lines.push(`               ${a} .. ${b}`);
    } else if (e.kind !== 'funding') {
      lines.push('  gaps       not counted (session market: use `quantbook data inspect STORE --session us-rth`)');
    }
    lines.push(`  updated    ${e.updated}`);
  }
  return lines.join('\n');
}

function fetchSummary(r: FetchReport): string {
  return `${r.source} -> ${r.store}: ${r.requests} requests, ${r.retries} retries, ${(r.waitedMs / 1000).toFixed(1)} s waited for rate limits and backoff`;
}

/**
 * Attaches `fetch` and `store list|inspect` to the `data` command.
 * @example registerStoreCommands(program.command('data'))
 */
export function registerStoreCommands(data: Command): void {
  data
    .command('fetch')
    .description('fetch bars (and funding rates, mark-price bars) from an exchange or broker into a local bar store, asking only for what the store lacks')
    .requiredOption('--source <name>', `provider: ${SOURCES.join(', ')}`)
    .requiredOption('--symbols <names...>', 'symbols as the provider names them (BTCUSDT, AAPL, BTC)')
    .requiredOption('--interval <bar>', `bar interval: ${FETCH_INTERVALS.join(', ')}`)
    .requiredOption('--start <date>', 'first bar time, ISO 8601 (2024-01-01 is midnight UTC)')
    .option('--end <date>', 'end, exclusive (default now; bars still open are never fetched)')
    .requiredOption('--to <store>', 'store folder (created when missing)')
    .option('--funding', 'also fetch funding-rate history (binance-futures, hyperliquid)')
    .option('--mark', 'also fetch mark-price bars (binance-futures)')
    .option('--base-url <url>', 'another host: a testnet, a regional endpoint, a local server')
    .option('--feed <iex|sip>', 'alpaca: data feed (default iex)')
    .option('--adjustment <kind>', 'alpaca: raw (default), split, dividend or all')
    .option('--timeout <duration>', 'limit of one request (default 30s)')
    .option('--retries <n>', 'retries of one request after 429/418/5xx/network errors (default 5)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Credentials: alpaca reads APCA_API_KEY_ID and APCA_API_SECRET_KEY from the environment (never
from flags, never written anywhere); the exchanges' market data needs none.
Examples:
  quantbook data fetch --source binance --symbols BTCUSDT ETHUSDT --interval 1m --start 2024-01-01 --end 2024-02-01 --to store
  quantbook data fetch --source binance-futures --symbols BTCUSDT --interval 1h --start 2024-01-01 --funding --mark --to store
  quantbook data fetch --source alpaca --symbols AAPL MSFT --interval 1m --start 2024-03-01 --feed iex --to store
  quantbook data fetch --source hyperliquid --symbols BTC ETH --interval 1h --start 2024-06-01 --funding --to store
Run it again to bring the store up to date: only missing ranges are asked for. Ctrl-C stops at the
next request and keeps what was stored; a second Ctrl-C quits at once.`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const f = fetchOptionsFromFlags(opts);
      // A first Ctrl-C stops the fetch at the next request (what is stored stays, the rest stays pending);
      // the listener is gone after it, so a second Ctrl-C ends the process at once.
      const stop = new AbortController();
      const onInterrupt = (): void => stop.abort();
      process.once('SIGINT', onInterrupt);
      const report = await fetchToStore({
        source: f.source,
        symbols: f.symbols,
        interval: f.interval,
        start: f.start,
        end: f.end,
        funding: f.funding,
        mark: f.mark,
        to: f.to,
        baseUrl: f.baseUrl,
        feed: f.feed,
        adjustment: f.adjustment,
        timeoutMs: f.timeoutMs,
        retry: f.retries === undefined ? undefined : { maxRetries: f.retries },
        progress: f.json ? undefined : streamProgress(process.stderr.isTTY ? process.stderr : process.stdout),
        signal: stop.signal,
      }).finally(() => process.removeListener('SIGINT', onInterrupt));
      process.stdout.write(`${f.json ? JSON.stringify(report, null, 2) : fetchSummary(report)}\n`);
    });

  const store = data.command('store').description('list and inspect bar stores written by `data fetch`');
  store
    .command('list')
    .argument('<store>', 'store folder')
    .description('one line per series: kind, source, symbol, interval, rows, span, known gaps, pending ranges, last update')
    .option('--json', 'print the manifest as JSON')
    .action((path: string, opts: Record<string, unknown>) => {
      process.stdout.write(`${opts.json ? JSON.stringify(readManifest(storeRoot(path)), null, 2) : storeListText(path)}\n`);
    });
  store
    .command('inspect')
    .argument('<store>', 'store folder')
    .description('per series: fetched and pending ranges, month files, the largest known gaps, last update')
    .option('--symbol <name>', 'only this symbol')
    .action((path: string, opts: Record<string, unknown>) => {
      process.stdout.write(`${storeInspectText(path, typeof opts.symbol === 'string' ? opts.symbol : undefined)}\n`);
    });
}
