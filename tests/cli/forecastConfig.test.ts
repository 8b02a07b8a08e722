import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flagsToConfig, readForecastConfig, resolveForecastSettings } from '../../src/cli/forecastConfig';

const dir = mkdtempSync(join(tmpdir(), 'quantbook-forecast-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('forecast config durations', () => {
  it('a bad --bar or bar key is named at validation', () => {
    for (const bar of ['0m', '5', '5 min', '-5m', '1.5h', '']) {
      expect(() => flagsToConfig({ bar })).toThrow(/use a duration like 15m \(key "--bar"\)/);
    }
    const file = join(dir, 'bad-bar.yaml');
    writeFileSync(file, 'bar: 0s\n');
    expect(() => readForecastConfig(file)).toThrow(new RegExp(`use a duration like 15m \\(file ${file}, key "bar"\\)`));
  });

  it('accepts what parseDuration accepts, spaces included', () => {
    const base = { data: 'x', symbol: 'X', out: 'o' };
    expect(resolveForecastSettings(base, flagsToConfig({ bar: ' 5 m ' })).load.barMs).toBe(300_000);
    expect(resolveForecastSettings(base, flagsToConfig({ bar: '007s' })).load.barMs).toBe(7_000);
    const w = resolveForecastSettings(base, { quiet_windows: [{ label: 'CPI', at: '2024-06-12T12:30:00Z', before: '1h', after: '90m' }] }).quietWindows[0];
    expect(w.endMs - w.startMs).toBe(150 * 60_000);
    const file = join(dir, 'bad-window.yaml');
    writeFileSync(file, 'quiet_windows: [{ label: CPI, at: "2024-06-12T12:30:00Z", before: 0m }]\n');
    expect(() => readForecastConfig(file)).toThrow(/use a duration like 15m \(file .*key "quiet_windows.0.before"\)/);
  });
});
