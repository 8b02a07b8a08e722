/**
 * Forecaster of the `chronos-bolt` family (amazon/chronos-bolt-* exported by
 * models/export/chronos_bolt.py): one forward pass maps raw values float32[B, T]
 * (NaN = missing, left-padded with NaN to a whole number of patches) to quantiles
 * float32[B, Q, P] at the card's levels, in the units of the context. The model's
 * instance normalisation runs inside the graph. Paths, when asked for, come from the
 * quantiles by the shared quantile-path rule (`samplesFromQuantiles`). The run itself is
 * `forecastQuantileGraph`, shared with the `quantile` family; this file only says how wide
 * the context tensor is and which values it refuses.
 */
import type { ChronosBoltCard, LoadedCard } from '../card';
import { forecastQuantileGraph, type QuantileGraph, runQuantileGraph } from '../quantileGraph';
import type { ModelSession } from '../runtime';
import type { Forecast, ForecastRequest, Forecaster, ForecasterInfo } from '../types';

/**
 * Width of the context tensor for windows of at most `longest` values: the longest window, capped
 * at `contextLength`, rounded up to a multiple of `patch` (at least one patch). Padding with NaN
 * is what Chronos-Bolt's own `Patch` does, so the numbers do not depend on it.
 * @example boltContextWidth(100, 2048, 16) // 112
 */
export function boltContextWidth(longest: number, contextLength: number, patch: number): number {
  const n = Math.min(Math.max(longest, 1), contextLength);
  return Math.ceil(n / patch) * patch;
}

export class ChronosBoltForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: ChronosBoltCard;
  private readonly graph: QuantileGraph;

  constructor(loaded: LoadedCard & { card: ChronosBoltCard }, model: ModelSession) {
    this.card = loaded.card;
    this.info = {
      name: this.card.name,
      family: 'quantile',
      contextLength: this.card.contextLength,
      minContext: this.card.minContext,
      maxHorizon: this.card.horizon,
      quantileLevels: [...this.card.quantileLevels],
    };
    this.graph = { card: this.card, onnxPath: loaded.onnxPath, model, info: this.info };
  }

  /** One run on a window of one patch. */
  async warmUp(): Promise<void> {
    const P = this.card.patchSize;
    await runQuantileGraph(this.graph, new Float32Array(P).fill(1), 1, P);
  }

  /**
   * Quantiles [B, Q, H] at the card's levels (and, with `samples: N`, comonotone samples derived from them).
   * @throws ModelError on bad windows, an infinite value, a horizon beyond the card's, or non-finite model output.
   */
  forecast(request: ForecastRequest): Promise<Forecast> {
    const { name, contextLength, patchSize } = this.card;
    return forecastQuantileGraph(this.graph, {
      width: (longest) => boltContextWidth(longest, contextLength, patchSize),
      refuse: (v, position, window) =>
        v === Infinity || v === -Infinity ? `${name}: value ${v} at position ${position} of window ${window}: pass finite values or NaN for missing` : undefined,
    }, request);
  }

  async close(): Promise<void> {
    // The session stays in the shared cache.
  }
}
