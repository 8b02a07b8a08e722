/**
 * `npm run bench:families`: CPU speed of the Kronos (and Toto) fixture cards for N = 100 paths,
 * H = 30 steps, one window of real 1-minute BTC bars (context = the card's), one onnxruntime thread.
 * Prints the median of 3 timed runs after a warm-up, their range, ONNX runs per forecast, and the
 * load average. The fixtures are tiny random-weight models: the numbers measure quantbook's loop
 * (sampling, tensor copies, graph calls), not a real checkpoint; see README for how real sizes scale.
 * Options: --card PATH (repeatable; default the fixture cards present).
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { barsToArraysBySymbol, loadValidBars } from '../src/data';
import { clearSessionCache, openModel } from '../src/forecast';
import { benchArgs } from './lib/args';

const ROOT = resolve(__dirname, '..');
const args = benchArgs('npm run bench:families -- [options]', {
  card: { default: [] as string[], help: 'model card (repeatable; default: the Kronos and Toto fixtures)' },
});
const given = args.card.map((c) => resolve(c));
const cards = given.length > 0 ? given : ['kronos-tiny', 'toto-tiny'].map((n) => join(ROOT, 'models', 'fixtures', `${n}.json`)).filter(existsSync);
const N = 100;
const H = 30;

async function main(): Promise<void> {
  const data = join(ROOT, '..', 'shared', 'data', 'real', 'crypto-1m', 'UNITTEST_BTC-1m.feather');
  const [, a] = [...barsToArraysBySymbol(loadValidBars(data).bars)][0];
  console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('card            context  N    H   median ms  range ms        runs/forecast');
  for (const card of cards) {
    const model = await openModel(card, { device: 'cpu', threads: 1 });
    const L = model.info.contextLength;
    const from = a.close.length - L;
    const req = {
      context: a.close.subarray(from),
      contextBars: { timeMs: a.ts.subarray(from), open: a.open.subarray(from), high: a.high.subarray(from), low: a.low.subarray(from),
        volume: a.volume.subarray(from) },
      horizon: H,
      samples: N,
    };
    await model.forecast({ ...req, seed: 0 });
    const times: number[] = [];
    let runs = 0;
    for (let r = 1; r <= 3; r++) {
      const f = await model.forecast({ ...req, seed: r });
      times.push(f.meta.timings.totalMs);
      runs = f.meta.timings.runs;
    }
    times.sort((x, y) => x - y);
    console.log(`${model.info.name.padEnd(16)}${String(L).padEnd(9)}${String(N).padEnd(5)}${String(H).padEnd(4)}${times[1].toFixed(0).padEnd(11)}${`${times[0].toFixed(0)}-${times[2].toFixed(0)}`.padEnd(16)}${runs}`);
  }
  console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await clearSessionCache();
}

void main();
