/**
 * The skill table of the shipped model cards (`evaluation` key): `quantbook eval --compare`
 * (the same code, `runEvalCompare`) of both models against naive, historical, EWMA and GARCH
 * on the held-out real symbols (never written into the training dump by
 * scripts/dump-training-series.ts), raw and with `--calibrate conformal`.
 *
 * The held-out 5-minute pairs are ETH_BTC, LTC_BTC and XLM_BTC of ../shared/data/real/crypto-5m
 * (UNITTEST_BTC, a copy of ETH_BTC, is left out so the pair is not counted twice). The loaders
 * read a folder, so the script puts links to the three files in models/train/.cache/heldout-5m
 * (ignored by git) and evaluates that folder.
 *
 * Each run scores some forecasters (default all six) raw or calibrated and saves its rows in
 * models/train/.cache/skill-NAME.json, so runs can go in parallel processes (the AR model and
 * the conformal warm-ups dominate the time); every forecaster sees the same origins and seeds
 * whichever run it is in. `--write` merges the saved runs into the `evaluation` key of both
 * cards. The Diebold-Mariano tests are in what the runs print, not in the merged table.
 *
 * Usage: tsx scripts/model-skill.ts [--horizon 30] [--every 96] [--samples 100]
 *          [--forecasters naive,historical,...] [--calibrate none|conformal] [--save NAME]
 *        tsx scripts/model-skill.ts --write
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runEvalCompare } from '../src/cli/eval';
import { writeFileAtomic } from '../src/core/output';
import { formatLeaderboard, type Leaderboard } from '../src/forecast';

const ROOT = resolve(__dirname, '..');
const REAL_5M = resolve(ROOT, '..', 'shared', 'data', 'real', 'crypto-5m');
const HELD_OUT = ['ETH_BTC', 'LTC_BTC', 'XLM_BTC'];
const MODELS = ['qb-quantile-s', 'qb-ar-s'];
const BASELINES = ['naive', 'historical', 'ewma', 'garch'];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const CACHE = join(ROOT, 'models', 'train', '.cache');

function text(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function heldOutFolder(): string {
  const dir = join(CACHE, 'heldout-5m');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (!HELD_OUT.some((s) => f === `${s}-5m.feather`)) rmSync(join(dir, f));
  for (const s of HELD_OUT) if (!existsSync(join(dir, `${s}-5m.feather`))) symlinkSync(join(REAL_5M, `${s}-5m.feather`), join(dir, `${s}-5m.feather`));
  return dir;
}

const round = (x: number, d = 4) => (Number.isFinite(x) ? Number(x.toPrecision(d)) : null);

interface Row {
  crps: number | null;
  crpsSe: number | null;
  wql: number | null;
  pctReturnMae: number | null;
  coverage80: number | null;
}

interface SavedRun {
  calibrate: string;
  horizon: number;
  every: number;
  samples: number;
  origins: number;
  rows: Record<string, Row>;
}

/** One row per forecaster: the pooled numbers `eval --compare` prints. */
function rowsOf(board: Leaderboard): Record<string, Row> {
  return Object.fromEntries(
    board.rows.map((r) => [
      r.name.replace(/\+conformal$/, '').replace(/^models\/(.*)\.json$/, '$1'),
      { crps: round(r.crps.mean), crpsSe: round(r.crps.se, 2), wql: round(r.pooled.wql), pctReturnMae: round(r.pctReturnMae.mean),
        coverage80: round(r.pooled.coverage80, 3) },
    ]),
  );
}

async function score(): Promise<void> {
  const horizon = arg('horizon', 30);
  const every = arg('every', 96);
  const samples = arg('samples', 100);
  const calibrate = text('calibrate', 'none');
  const names = text('forecasters', [...BASELINES, ...MODELS].join(',')).split(',');
  const compare = names.map((n) => (MODELS.includes(n) ? `models/${n}.json` : n)).join(',');
  process.chdir(ROOT);
  const t0 = Date.now();
  const { board } = await runEvalCompare({ data: heldOutFolder(), compare, horizon, every, samples, seed: 0, device: 'cpu', calibrate });
  process.stdout.write(`${calibrate} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n${formatLeaderboard(board)}\n`);
  const saved: SavedRun = { calibrate, horizon, every, samples, origins: board.origins, rows: rowsOf(board) };
  writeFileAtomic(join(CACHE, `skill-${text('save', calibrate)}.json`), JSON.stringify(saved, null, 1));
}

function merged(runs: SavedRun[], calibrate: string): Record<string, Row & { rank: number }> {
  const rows = Object.assign({}, ...runs.filter((r) => r.calibrate === calibrate).map((r) => r.rows)) as Record<string, Row>;
  const order = Object.entries(rows).sort((a, b) => (a[1].crps ?? Infinity) - (b[1].crps ?? Infinity));
  return Object.fromEntries(order.map(([k, v], i) => [k, { rank: i + 1, ...v }]));
}

function write(): void {
  const runs = readdirSync(CACHE)
    .filter((f) => /^skill-.*\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(CACHE, f), 'utf8')) as SavedRun);
  const first = runs[0];
  if (!first) throw new Error(`no saved runs in ${CACHE}: run the scoring first`);
  for (const r of runs) {
    if (r.horizon !== first.horizon || r.every !== first.every || r.samples !== first.samples || r.origins !== first.origins) {
      throw new Error('saved runs differ in horizon, every, samples or origins: score them again with the same flags');
    }
  }
  const raw = merged(runs, 'none');
  const conformal = merged(runs, 'conformal');
  const flags = `--horizon ${first.horizon} --every ${first.every} --samples ${first.samples} --seed 0 --device cpu`;
  for (const m of MODELS) {
    const path = join(ROOT, 'models', `${m}.json`);
    if (!existsSync(path)) throw new Error(`no card ${path}`);
    const own = raw[m] as Row | undefined;
    const { historical, garch } = raw;
    if (!historical || !garch) throw new Error('the saved runs lack historical or garch');
    const cmp = (x: Row, name: string) => `${(own?.crps ?? Infinity) <= (x.crps ?? -Infinity) ? 'at most' : 'above'} ${name}'s (${own?.crps} vs ${x.crps})`;
    const verdict = own
      ? `On the held-out pairs this model's CRPS is ${cmp(historical, 'the historical baseline')} and ${cmp(garch, 'GARCH')}.`
      : 'This model was not scored in the saved runs (see the raw and conformal rows for what was).';
    const card = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    card.evaluation = {
      data: `../shared/data/real/crypto-5m held-out symbols ${HELD_OUT.join(', ')} (5-minute bars, 2018-01-10..30; never in the training dump; UNITTEST_BTC, a copy of ETH_BTC, left out)`,
      command: `quantbook eval --data <folder of ${HELD_OUT.map((s) => `${s}-5m.feather`).join(', ')}> --compare ${[...BASELINES, ...MODELS.map((x) => `models/${x}.json`)].join(',')} ${flags} [--calibrate conformal]`,
      script: 'scripts/model-skill.ts (npm run models:skill)',
      horizon: first.horizon,
      every: first.every,
      samples: first.samples,
      origins: first.origins,
      units: 'crps: mean per-origin CRPS in price units, with its HAC standard error; wql relative to sum |y|; pctReturnMae: mean |predicted - realised| h-step return; coverage80: share of outcomes inside [q0.1, q0.9]',
      verdict,
      raw,
      ...(Object.keys(conformal).length > 0 ? { conformal } : {}),
    };
    writeFileAtomic(path, JSON.stringify(card, null, 1) + '\n');
    process.stdout.write(`wrote the evaluation of ${path}\n`);
  }
}

(process.argv.includes('--write') ? Promise.resolve().then(write) : score()).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
