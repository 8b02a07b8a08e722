import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestConfigText, isBestConfig, parseBestConfig, readBestConfig, writeBestConfig } from '../../src/forecast/bestConfig';
import { ConfigError } from '../../src/core/errors';
import { thrownBy } from '../support/errors';
import { REPO_ROOT } from '../support/paths';

const BEST = join(REPO_ROOT, 'configs', 'best');

describe('configs/best/<SYMBOL>.json', () => {
  it('reads every shipped file, and writes it back byte for byte', () => {
    const files = readdirSync(BEST).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['SYNA.json', 'SYNB.json', 'SYNC.json']);
    for (const f of files) {
      const text = readFileSync(join(BEST, f), 'utf8');
      const cfg = readBestConfig(join(BEST, f));
      expect(cfg.symbol).toBe(f.replace('.json', ''));
      expect(cfg.ensemble.members.reduce((a, m) => a + m.weight, 0)).toBeCloseTo(1, 12);
      expect(bestConfigText(JSON.parse(text))).toBe(text);
      const out = join(mkdtempSync(join(tmpdir(), 'qb-best-')), f);
      writeBestConfig(out, cfg);
      expect(readFileSync(out, 'utf8')).toBe(text);
    }
  });

  it('names the file and key of what is wrong', () => {
    const good = JSON.parse(readFileSync(join(BEST, 'SYNA.json'), 'utf8'));
    expect(isBestConfig(good)).toBe(true);
    expect(isBestConfig({ sizing: { kind: 'kelly' } })).toBe(false);
    const bad = { ...good, setting: { ...good.setting, topP: 1.5 } };
    const e = thrownBy(() => parseBestConfig(bad, 'x.json'), ConfigError);
    expect(e.message).toMatch(/x\.json/);
    expect(e.message).toMatch(/setting\.topP/);
    const weights = { ...good, ensemble: { ...good.ensemble, members: good.ensemble.members.slice(1) } };
    expect(() => parseBestConfig(weights, 'w.json')).toThrow(/weights sum to 0\.79/);
    expect(() => readBestConfig(join(BEST, 'NOPE.json'))).toThrow(/cannot be read/);
  });
});
