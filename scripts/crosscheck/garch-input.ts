/**
 * Writes the input of the GARCH cross-check: the one-bar log returns of the last 512 bars
 * of five recorded crypto pairs (../shared/data/real/crypto-5m), exactly as the `garch`
 * forecaster sees them (src/forecast/baselines returnStats of the last 513 closes).
 * ETC_BTC is in the set because its GJR optimum lies on the bound alpha + gamma = 0.
 *
 * Usage: tsx scripts/crosscheck/garch-input.ts [OUT] (default tests/forecast/fixtures/garch-returns.json)
 * Then: /usr/bin/python3 scripts/crosscheck/garch_scipy.py (Debian python3-scipy).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadGridSeries } from '../../src/cli/eval';
import { returnStats } from '../../src/forecast/baselines';

const CROSSCHECK_PAIRS = ['ADA_BTC', 'ETC_BTC', 'ETH_BTC', 'NXT_BTC', 'TRX_BTC'];
const CROSSCHECK_CLOSES = 513;

const root = resolve(__dirname, '..', '..');
const out = process.argv[2] ?? resolve(root, 'tests/forecast/fixtures/garch-returns.json');
const series = loadGridSeries(resolve(root, '..', 'shared', 'data', 'real', 'crypto-5m'));
const returns: Record<string, number[]> = {};
for (const name of CROSSCHECK_PAIRS) {
  const s = series.find((x) => x.symbol === name);
  if (!s) throw new Error(`pair ${name} missing from crypto-5m`);
  returns[name] = Array.from(returnStats(s.closes.subarray(s.closes.length - CROSSCHECK_CLOSES)).returns);
}
writeFileSync(out, `${JSON.stringify({ source: 'crypto-5m, last 513 closes, one-bar log returns', returns })}\n`);
console.log(`wrote ${out}`);
