/**
 * Reading a command's config file. Its own module so that only the commands that take
 * a config file (backtest, forecast) load the YAML parser.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError } from '../core/errors';

/**
 * Reads a config file as YAML (default) or JSON; an empty file is `{}`.
 * @throws ConfigError naming the file when it cannot be read (`cannot read the config file`) or
 *   parsed (`config is not valid YAML: <the parser's first line>`, or `JSON`).
 * @example readConfigFile('backtest.yaml') // { sizing: { kind: 'kelly', fraction: 0.5 }, ... }
 */
export function readConfigFile(file: string, format: 'yaml' | 'json' = 'yaml'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError('cannot read the config file', { file });
  }
  try {
    return (format === 'json' ? JSON.parse(text) : YAML.parse(text)) ?? {};
  } catch (err) {
    throw new ConfigError(`config is not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`, { file });
  }
}
