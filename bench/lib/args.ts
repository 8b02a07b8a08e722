/**
 * One argument parser for every bench script: `--name value` flags with typed defaults,
 * `--help` prints the usage, an unknown flag or a bad number is an error naming it.
 *
 * @example
 * const args = benchArgs('npm run bench:backtest -- [options]', {
 *   bars: { default: 1_000_000, help: 'bars per symbol' },
 *   torch: { default: true, help: 'compare with PyTorch (--no-torch turns it off)' },
 * });
 * args.bars; // number
 */
import { parseArgs } from 'node:util';

type Value = number | string | boolean | string[];
export interface FlagSpec<V extends Value = Value> {
  default: V;
  help: string;
}
type Parsed<S extends Record<string, FlagSpec>> = {
  [K in keyof S]: S[K]['default'] extends number ? number : S[K]['default'] extends boolean ? boolean : S[K]['default'] extends string[] ? string[] : string;
};

/**
 * Parses `argv` (default `process.argv.slice(2)`) against `spec`. Numbers accept `1e6` and `1_000_000`;
 * booleans are `--flag` / `--no-flag`; strings are taken as given; a flag whose default is a string array
 * may be repeated (`--card a.json --card b.json`) and replaces the default when given.
 * Prints the usage and exits 0 on `--help`; prints the problem and the usage and exits 2 on a bad flag.
 */
export function benchArgs<S extends Record<string, FlagSpec>>(usage: string, spec: S, argv: string[] = process.argv.slice(2)): Parsed<S> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const [name, f] of Object.entries(spec)) {
    options[name] = Array.isArray(f.default) ? { type: 'string', multiple: true } : { type: typeof f.default === 'boolean' ? 'boolean' : 'string' };
    if (typeof f.default === 'boolean') options[`no-${name}`] = { type: 'boolean' };
  }
  const usageText = (): string =>
    [`usage: ${usage}`, ...Object.entries(spec).map(([name, f]) => `  --${typeof f.default === 'boolean' ? `[no-]${name}` : `${name} <${Array.isArray(f.default) ? 'string, repeatable' : typeof f.default}>`}  ${f.help} (default ${String(f.default)})`)].join('\n');
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | string[] | undefined>;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${usageText()}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${usageText()}\n`);
    process.exit(0);
  }
  const out: Record<string, Value> = {};
  for (const [name, f] of Object.entries(spec)) {
    const v = values[name];
    if (Array.isArray(f.default)) out[name] = Array.isArray(v) && v.length > 0 ? v : f.default;
    else if (typeof f.default === 'boolean') out[name] = values[`no-${name}`] ? false : v === undefined ? f.default : Boolean(v);
    else if (typeof f.default === 'number') {
      const x = v === undefined ? f.default : Number(String(v).replace(/_/g, ''));
      if (!Number.isFinite(x)) {
        process.stderr.write(`--${name} must be a number, got ${JSON.stringify(v)}\n${usageText()}\n`);
        process.exit(2);
      }
      out[name] = x;
    } else out[name] = v === undefined ? f.default : String(v);
  }
  return out as Parsed<S>;
}
