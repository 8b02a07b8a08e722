import { describe, expect, it } from 'vitest';
import { benchArgs } from '../../bench/lib/args';
import { formatSpread, spread, verdictLine } from '../../bench/lib/results';

describe('bench/lib', () => {
  it('spread: median of odd and even samples, range', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(formatSpread(spread([1.234, 1.1, 1.41]))).toBe('1.23 (1.10-1.41, n=3)');
    expect(() => spread([])).toThrow('no values');
  });
  it('benchArgs: typed defaults, numbers with underscores and exponents, --no-flag', () => {
    const spec = { bars: { default: 1000, help: 'bars' }, torch: { default: true, help: 'torch' }, card: { default: 'a.json', help: 'card' } };
    expect(benchArgs('x', spec, [])).toEqual({ bars: 1000, torch: true, card: 'a.json' });
    expect(benchArgs('x', spec, ['--bars', '1_000_000', '--no-torch', '--card', 'b.json'])).toEqual({ bars: 1_000_000, torch: false, card: 'b.json' });
    expect(benchArgs('x', spec, ['--bars', '1e6']).bars).toBe(1e6);
    const cards = { card: { default: ['a.json'] as string[], help: 'cards' } };
    expect(benchArgs('x', cards, []).card).toEqual(['a.json']);
    expect(benchArgs('x', cards, ['--card', 'b.json', '--card', 'c.json']).card).toEqual(['b.json', 'c.json']);
  });
  it('verdict lines say whether the goal was met', () => {
    expect(verdictLine('steps/s >= 30M', false, '24.1M')).toBe('goal NOT met: steps/s >= 30M: 24.1M');
    expect(verdictLine('ratio <= 5x', true, '4.2x')).toBe('goal met: ratio <= 5x: 4.2x');
  });
});
