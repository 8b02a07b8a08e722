/**
 * `npx tsx bench/chronos.ts`: CPU speed of the Chronos-Bolt and Chronos families at N = 100
 * paths, H = 30 steps, on the random-weight fixture cards (tests/forecast/fixtures/fm, d_model 16)
 * or any exported card (--card PATH, repeatable).
 *
 * Prints, per card: the median and range of `--runs` forecasts of one window (after one
 * warm-up forecast), model time inside onnxruntime, ONNX runs, and the load average before and
 * after (the machine is shared: read the numbers with it).
 * Options: --card PATH (repeatable)  --runs 5  --context 100  --threads 1
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { clearSessionCache, openModel } from '../src/forecast';
import { benchArgs } from './lib/args';

const ROOT = resolve(__dirname, '..');
const args = benchArgs('npx tsx bench/chronos.ts [options]', {
  card: { default: [] as string[], help: 'model card (repeatable; default: the two random-weight fixtures)' },
  runs: { default: 5, help: 'timed runs after one warm-up' },
  context: { default: 100, help: 'context length, values' },
  threads: { default: 1, help: 'onnxruntime intra-op threads' },
});
const cards = args.card.map((c) => resolve(c));
const CARDS = cards.length > 0 ? cards : ['chronos-bolt-rand.json', 'chronos-t5-rand.json'].map((f) => join(ROOT, 'tests', 'forecast', 'fixtures', 'fm', f));
const RUNS = args.runs;
const CONTEXT = args.context;
const THREADS = args.threads;
const N = 100;
const H = 30;

async function main(): Promise<void> {
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  const context = Float64Array.from({ length: CONTEXT }, (_, i) => 100 * Math.exp(0.01 * Math.sin(i / 7) + 0.0005 * i));
  console.log(`N = ${N} paths, H = ${H} steps, context ${CONTEXT} values, ${THREADS} thread(s), ${RUNS} runs after one warm-up; load average ${load()}`);
  console.log('card                     family          median ms  min..max ms     model ms  onnx runs');
  for (const card of CARDS) {
    const model = await openModel(card, { device: 'cpu', threads: THREADS });
    await model.forecast({ context, horizon: H, samples: N, seed: 0 });
    const times: number[] = [];
    let modelMs = 0;
    let runs = 0;
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      const f = await model.forecast({ context, horizon: H, samples: N, seed: r });
      times.push(performance.now() - t);
      modelMs = f.meta.timings.modelMs;
      runs = f.meta.timings.runs;
    }
    times.sort((a, b) => a - b);
    const med = times[Math.floor(times.length / 2)];
    console.log(
      `${model.info.name.padEnd(24)} ${model.info.family.padEnd(15)} ${med.toFixed(0).padStart(9)}  ${`${times[0].toFixed(0)}..${times[times.length - 1].toFixed(0)}`.padEnd(14)} ${modelMs.toFixed(0).padStart(8)}  ${String(runs).padStart(9)}`,
    );
    await model.close();
  }
  console.log(`load average after: ${load()}`);
  await clearSessionCache();
}

void main();
