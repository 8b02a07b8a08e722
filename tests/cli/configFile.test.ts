import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { readConfigFile } from '../../src/cli/configFile';
import { thrownBy } from '../support/errors';

const dir = mkdtempSync(join(tmpdir(), 'quantbook-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const thrown = (f: () => unknown): ConfigError => thrownBy(f, ConfigError);

describe('readConfigFile', () => {
  it('reads YAML and JSON config files; an empty file is {}', () => {
    const yaml = join(dir, 'a.yaml');
    writeFileSync(yaml, 'capital: 5000\nsizing: { kind: kelly, fraction: 0.5 }\n');
    expect(readConfigFile(yaml)).toEqual({ capital: 5000, sizing: { kind: 'kelly', fraction: 0.5 } });
    const json = join(dir, 'a.json');
    writeFileSync(json, '{"capital": 5000}');
    expect(readConfigFile(json, 'json')).toEqual({ capital: 5000 });
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    expect(readConfigFile(empty)).toEqual({});
  });

  it('names the file of an unreadable or unparsable config', () => {
    const missing = join(dir, 'missing.yaml');
    expect(thrown(() => readConfigFile(missing)).message).toBe(`cannot read the config file (file ${missing})`);
    const badYaml = join(dir, 'bad.yaml');
    writeFileSync(badYaml, 'a: [1, 2\n');
    expect(thrown(() => readConfigFile(badYaml)).message).toMatch(new RegExp(`^config is not valid YAML: .+ \\(file ${badYaml}\\)$`));
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{capital: 5000}');
    expect(thrown(() => readConfigFile(badJson, 'json')).message).toMatch(/^config is not valid JSON: /);
  });
});
