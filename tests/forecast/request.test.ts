import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors';
import { checkSamplingRequest } from '../../src/forecast/request';
import type { ForecasterInfo } from '../../src/forecast/types';

const info: ForecasterInfo = { name: 'toy', family: 'autoregressive', contextLength: 8, minContext: 3, maxHorizon: 4, quantileLevels: null };
const window = new Float64Array([1, 1.01, 1.02, 1.03]);

describe('checkSamplingRequest', () => {
  it('returns the windows and the paths per window, the fallback when the request names none', () => {
    expect(checkSamplingRequest({ context: window, horizon: 4 }, info, 7, 'Toy')).toEqual({ windows: [window], n: 7 });
    const two = checkSamplingRequest({ context: [window, window], horizon: 1, samples: 2 }, info, 7, 'Toy');
    expect(two.windows).toHaveLength(2);
    expect(two.n).toBe(2);
  });

  it('refuses, in order, no windows, a horizon past the card, zero samples and a short window', () => {
    const fails = (request: Parameters<typeof checkSamplingRequest>[0]): ModelError => {
      try {
        checkSamplingRequest(request, info, 7, 'Toy');
      } catch (e) {
        expect(e).toBeInstanceOf(ModelError);
        return e as ModelError;
      }
      throw new Error('expected a ModelError');
    };
    expect(fails({ context: [], horizon: 5, samples: 0 }).message).toMatch(/no context window/);
    expect(fails({ context: window, horizon: 5, samples: 0 }).message).toMatch(/beyond toy's 4 bars/);
    expect(fails({ context: window, horizon: 4, samples: 0 }).message).toBe('Toy forecasts by sampling: ask for samples >= 1 (key "samples", value 0)');
    expect(fails({ context: [window, new Float64Array([1, NaN, NaN, 2])], horizon: 4 }).message).toMatch(/^toy: /);
  });
});
