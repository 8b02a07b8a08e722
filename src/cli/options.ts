/**
 * Checking command-line options with zod, shared by the commands: the first zod
 * issue becomes one ConfigError that names the flag as the user typed it.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors';

/**
 * A whole-number option at least `min`, coerced from the flag's text.
 * @example int(1).parse('30') // 30; int(1).parse('0') throws a ZodError
 */
export const int = (min: number) => z.coerce.number().int().min(min);

/**
 * The flag of a camelCase option key, as commander derives keys from flags.
 * @example flagOf('samplesPerBatch') // '--samples-per-batch'
 */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** How {@link parseFlags} words its error. */
export interface ParseFlagsOptions {
  /** Text before zod's message, given the flag (`--bins`); default none. */
  prefix?: string | ((flag: string) => string);
  /** Whether the error's location carries the offending value; default true. */
  showValue?: boolean;
  /** The camelCase key of one flag when `raw` is that flag's value, not an options object. */
  single?: string;
}

/**
 * Parses options (commander's camelCase object, or one flag's value with `single`)
 * with a zod schema.
 * @throws ConfigError on the first zod issue: `prefix + message`, located at the flag
 *   (`key "--top-p"`) and, unless `showValue` is false, the value given.
 * @example
 * parseFlags(z.object({ bins: int(1) }), { bins: 'ten' }, { prefix: (flag) => `invalid ${flag}: ` });
 * // throws ConfigError 'invalid --bins: Invalid input: expected number, received NaN (key "--bins", value "ten")'
 */
export function parseFlags<T>(schema: z.ZodType<T>, raw: unknown, options: ParseFlagsOptions = {}): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = options.single ?? String(issue.path[0] ?? '');
  const flag = flagOf(key);
  const prefix = typeof options.prefix === 'function' ? options.prefix(flag) : (options.prefix ?? '');
  const value = options.single !== undefined ? raw : (raw as Record<string, unknown>)[key];
  throw new ConfigError(`${prefix}${issue.message}`, options.showValue === false ? { key: flag } : { key: flag, value });
}
