/**
 * `quantbook models export|list`: foundation-model checkpoints into quantbook cards
 * (through the Python scripts in models/export/), and the cards on disk.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, ModelError } from '../core/errors';
import { loadCard, type ModelCard } from '../forecast/card';

/** models/export of this installation (src/cli and dist/cli are both two levels below the root). */
const EXPORT_DIR = resolve(__dirname, '..', '..', 'models', 'export');

/** Python files of models/export that are helpers, not a family's script (also any name starting with `_`). */
const HELPERS = new Set(['common', 't5']);

/**
 * Families with an export script: `models/export/<family with - as _>.py`, helpers excluded.
 * @example exportFamilies() // ['chronos', 'chronos-bolt', ...]
 */
export function exportFamilies(dir: string = EXPORT_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.py') && !f.startsWith('_') && !HELPERS.has(f.slice(0, -3)))
    .map((f) => f.slice(0, -3).replace(/_/g, '-'))
    .sort();
}

/** What `models export` runs. */
export interface ExportPlan {
  python: string;
  script: string;
  args: string[];
}

/**
 * The command line of an export: `${PYTHON:-/usr/bin/python3} models/export/<family>.py --checkpoint DIR --out PREFIX ...`.
 * @throws ConfigError naming `--family` (with the families present) or `--checkpoint` when the folder is missing.
 * @example exportPlan({ family: 'chronos-bolt', checkpoint: 'ckpt', out: 'models/cb' }).script // '.../models/export/chronos_bolt.py'
 */
export function exportPlan(
  flags: { family: string; checkpoint: string; out: string; name?: string; context?: string; force?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  dir: string = EXPORT_DIR,
): ExportPlan {
  const families = exportFamilies(dir);
  if (!families.includes(flags.family)) {
    throw new ConfigError(`no export script for family ${flags.family}: the families with a script in ${dir} are ${families.join(', ') || 'none'}`, {
      key: '--family',
      value: flags.family,
    });
  }
  if (!existsSync(flags.checkpoint) || !statSync(flags.checkpoint).isDirectory()) {
    throw new ConfigError('checkpoint folder not found: pass the folder holding config.json and the weights, as downloaded from Hugging Face', {
      key: '--checkpoint',
      file: resolve(flags.checkpoint),
    });
  }
  const args = ['--checkpoint', resolve(flags.checkpoint), '--out', resolve(flags.out)];
  if (flags.name) args.push('--name', flags.name);
  if (flags.context) args.push('--context', flags.context);
  if (flags.force) args.push('--force');
  return { python: env.PYTHON || '/usr/bin/python3', script: join(dir, `${flags.family.replace(/-/g, '_')}.py`), args };
}

/** Runs the plan, passing its output through; resolves to the exit code and the last stderr line. */
function runPlan(plan: ExportPlan): Promise<{ code: number; lastError: string }> {
  return new Promise((done, fail) => {
    const child = spawn(plan.python, [plan.script, ...plan.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', (b: Buffer) => process.stdout.write(b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      const s = b.toString();
      err += s;
      // torch's exporter warnings are long and not the user's business; errors and the rest pass through.
      if (!/Warning:/.test(s)) process.stderr.write(s);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        fail(new ConfigError(`Python not found at ${plan.python}: set PYTHON to an interpreter with PyTorch and onnx (Debian: python3-torch, python3-onnx)`, {
          key: 'PYTHON',
          value: plan.python,
        }));
      } else fail(e);
    });
    child.on('close', (code) => {
      const lines = err.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
      done({ code: code ?? 1, lastError: lines.filter((l) => /^error:|Error/.test(l)).pop() ?? lines.pop() ?? '' });
    });
  });
}

/** One card found by `models list`, or the reason a card-like file is not usable. */
interface ListedCard {
  file: string;
  card: ModelCard | null;
  /** Bytes of the ONNX graphs the card names (null when one is missing). */
  bytes: number | null;
  problem: string | null;
}

/**
 * The model cards in a folder (files with `"schema": "quantbook.model-card/1"`), checked with `loadCard`;
 * other JSON files (parity fixtures) are counted, not listed.
 * @example listCards('models').cards.map((c) => c.card?.name) // ['qb-ar-s', 'qb-quantile-s']
 */
function listCards(dir: string): { cards: ListedCard[]; otherJson: number } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError('models folder not found', { key: '--dir', file: resolve(dir) });
  const cards: ListedCard[] = [];
  let otherJson = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const file = join(dir, f);
    let schema: unknown;
    try {
      schema = (JSON.parse(readFileSync(file, 'utf8')) as { schema?: unknown }).schema;
    } catch {
      schema = undefined;
    }
    if (schema !== 'quantbook.model-card/1') {
      otherJson++;
      continue;
    }
    try {
      const { card } = loadCard(file);
      const graphs = [card.file, ...(card.family === 'chronos' ? [card.decoder.file] : [])].map((g) => join(dir, g));
      const missing = graphs.filter((g) => !existsSync(g));
      const bytes = missing.length > 0 ? null : graphs.reduce((a, g) => a + statSync(g).size, 0);
      cards.push({ file, card, bytes, problem: missing.length > 0 ? `missing ${missing.map((m) => basename(m)).join(', ')}` : null });
    } catch (err) {
      cards.push({ file, card: null, bytes: null, problem: (err as Error).message });
    }
  }
  return { cards, otherJson };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => r.map((x, j) => x.padEnd(widths[j])).join('  ').trimEnd()).join('\n');
}

/** Rows of an object whose every value is an object of numbers (forecaster -> metrics), or null. */
function metricRows(value: unknown): [string, Record<string, number>][] | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const rows = Object.entries(value as Record<string, unknown>).filter(
    (e): e is [string, Record<string, number>] =>
      typeof e[1] === 'object' && e[1] !== null && !Array.isArray(e[1]) && Object.values(e[1]).every((v) => typeof v === 'number'),
  );
  return rows.length > 0 ? rows : null;
}

/**
 * Skill tables of a card's `evaluation`: its own entries that are objects of numbers (model,
 * baselines), and each entry that is itself such a table (e.g. `raw` and `conformal`), titled by its key.
 */
function skillTable(evaluation: Record<string, unknown>): string | null {
  const render = (rows: [string, Record<string, number>][]): string => {
    const metrics = [...new Set(rows.flatMap(([, m]) => Object.keys(m)))];
    const cell = (v: number | undefined) => (v === undefined ? '' : String(Number(v.toPrecision(4))));
    return table([['forecaster', ...metrics], ...rows.map(([name, m]) => [name, ...metrics.map((k) => cell(m[k]))])]);
  };
  const parts: string[] = [];
  const own = metricRows(evaluation);
  if (own) parts.push(render(own));
  for (const [key, value] of Object.entries(evaluation)) {
    const nested = metricRows(value);
    if (nested && !own?.some(([name]) => name === key)) parts.push(`${key}:`, render(nested));
  }
  return parts.length > 0 ? parts.join('\n') : null;
}

/**
 * The text of `models list`: one row per card (name, family, size, context, horizon, parameters,
 * file), problems after, then each card's skill table where its `evaluation` has one.
 * @example modelsListText(listCards('models')) // 'name  family  size ...'
 */
function modelsListText(listed: { cards: ListedCard[]; otherJson: number }): string {
  const ok = listed.cards.filter((c) => c.card);
  const out: string[] = [];
  if (ok.length > 0) {
    const mb = (b: number | null) => (b === null ? '?' : `${(b / 1e6).toFixed(b < 1e6 ? 2 : 1)} MB`);
    const params = (c: ModelCard) => {
      const p = c.architecture?.parameters;
      return typeof p === 'number' ? (p >= 1e6 ? `${(p / 1e6).toFixed(1)}M` : `${(p / 1e3).toFixed(1)}k`) : '';
    };
    out.push(table([
      ['name', 'family', 'size', 'context', 'horizon', 'params', 'card'],
      ...ok.map((c) => [c.card!.name, c.card!.family, mb(c.bytes), String(c.card!.contextLength), String(c.card!.horizon), params(c.card!), basename(c.file)]),
    ]));
  }
  for (const c of listed.cards.filter((x) => x.problem)) out.push(`${basename(c.file)}: ${c.problem}`);
  for (const c of ok) {
    const skill = c.card!.evaluation ? skillTable(c.card!.evaluation) : null;
    if (!skill) continue;
    const ev = c.card!.evaluation!;
    out.push('', `${c.card!.name}: skill${typeof ev.data === 'string' ? ` on ${ev.data}` : ''}`);
    if (typeof ev.command === 'string') out.push(`  ${ev.command}`);
    out.push(skill);
  }
  out.push(`${ok.length} card(s)${listed.cards.length > ok.length ? `, ${listed.cards.length - ok.length} unusable` : ''}${listed.otherJson > 0 ? `; ${listed.otherJson} other JSON file(s) (not model cards) not listed` : ''}`);
  return `${out.join('\n')}\n`;
}

/**
 * Attaches `models export` and `models list`.
 * @example registerModelsCommands(new Command()) // adds models export|list
 */
export function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('foundation-model checkpoints into quantbook cards, and the cards on disk');

  models.command('export')
    .description('export a checkpoint folder (config.json + weights, as its authors publish it) to ONNX and a model card')
    .requiredOption('--family <family>', `model family: one with a script in models/export (${exportFamilies().join(', ') || 'none found'})`)
    .requiredOption('--checkpoint <dir>', 'folder with config.json and model.safetensors or pytorch_model.bin')
    .requiredOption('--out <prefix>', 'output prefix: writes PREFIX.onnx (or several graphs), PREFIX.json and PREFIX.parity.json')
    .option('--name <name>', 'model name in the card (default: the prefix base name)')
    .option('--context <n>', "context length in the card (default: the checkpoint's)")
    .option('--force', 'overwrite an existing card')
    .addHelpText('after', `
Runs \${PYTHON:-/usr/bin/python3} models/export/<family>.py (PyTorch and onnx needed; no network).
Example: quantbook models export --family chronos-bolt --checkpoint ~/hf/chronos-bolt-small --out models/chronos-bolt-small`)
    .action(async (flags: { family: string; checkpoint: string; out: string; name?: string; context?: string; force?: boolean }) => {
      if (flags.context !== undefined && !/^[1-9]\d*$/.test(flags.context)) throw new ConfigError('--context takes a whole number >= 1', { key: '--context', value: flags.context });
      const plan = exportPlan(flags);
      const { code, lastError } = await runPlan(plan);
      if (code !== 0) throw new ModelError(`export failed (${basename(plan.script)} exited ${code}): ${lastError}`, { file: plan.script });
      const cardPath = `${resolve(flags.out)}.json`;
      const { card } = loadCard(cardPath);
      process.stdout.write(`quantbook: ${card.name} (${card.family}) ready: --model ${cardPath}\n`);
    });

  models.command('list')
    .description('the model cards in a folder: family, size, context, horizon, parameters, and skill tables where the card has one')
    .option('--dir <dir>', 'folder of cards', 'models')
    .option('--json', 'print the cards as JSON')
    .action((flags: { dir: string; json?: boolean }) => {
      const listed = listCards(flags.dir);
      if (flags.json) {
        const rows = listed.cards.map((c) => ({
          file: c.file,
          name: c.card?.name ?? null,
          family: c.card?.family ?? null,
          bytes: c.bytes,
          contextLength: c.card?.contextLength ?? null,
          horizon: c.card?.horizon ?? null,
          evaluation: c.card?.evaluation ?? null,
          problem: c.problem,
        }));
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write(modelsListText(listed));
    });
}
