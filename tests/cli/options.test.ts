import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../src/core/errors';
import { flagOf, int, parseFlags } from '../../src/cli/options';
import { thrownBy } from '../support/errors';

const thrown = (f: () => unknown): ConfigError => thrownBy(f, ConfigError);

describe('cli options', () => {
  it('names a camelCase key by its kebab-case flag', () => {
    expect(flagOf('samplesPerBatch')).toBe('--samples-per-batch');
    expect(flagOf('probCol')).toBe('--prob-col');
    expect(flagOf('bins')).toBe('--bins');
  });

  it('int coerces flag text to a whole number at least min', () => {
    expect(int(1).parse('30')).toBe(30);
    expect(int(0).safeParse('0').success).toBe(true);
    expect(int(1).safeParse('0').success).toBe(false);
    expect(int(1).safeParse('2.5').success).toBe(false);
  });

  const schema = z.object({ samplesPerBatch: int(1), bins: int(1).default(10) });

  it('parses good options and applies defaults', () => {
    expect(parseFlags(schema, { samplesPerBatch: '4' })).toEqual({ samplesPerBatch: 4, bins: 10 });
  });

  it('words the error as each command does: prefix, flag, value', () => {
    const plain = thrown(() => parseFlags(schema, { samplesPerBatch: '0' }, { prefix: 'invalid option: ', showValue: false }));
    expect(plain.message).toMatch(/^invalid option: .+ \(key "--samples-per-batch"\)$/);
    expect(plain.location).toEqual({ key: '--samples-per-batch' });

    const named = thrown(() => parseFlags(schema, { samplesPerBatch: '1', bins: 'ten' }, { prefix: (flag) => `invalid ${flag}: ` }));
    expect(named.message).toMatch(/^invalid --bins: .+ \(key "--bins", value "ten"\)$/);

    const bare = thrown(() => parseFlags(schema, { samplesPerBatch: 'x' }));
    expect(bare.problem).not.toMatch(/invalid/);
    expect(bare.location).toEqual({ key: '--samples-per-batch', value: 'x' });
  });

  it('a single flag value is located at that flag, with the whole value', () => {
    const e = thrown(() => parseFlags(z.array(z.enum(['sort', 'dropDuplicates'])), ['sort', 'shuffle'], { single: 'repair' }));
    expect(e.location).toEqual({ key: '--repair', value: ['sort', 'shuffle'] });
  });
});
