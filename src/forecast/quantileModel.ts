/**
 * Forecaster of the `quantile` family (Chronos-Bolt style): one forward pass maps
 * context float32[B, L] (NaN = missing, left-padded when shorter) to quantiles
 * float32[B, Q, H] at the card's levels. The run itself is `forecastQuantileGraph`, shared
 * with Chronos-Bolt.
 */
import type { LoadedCard, QuantileCard } from './card';
import { forecastQuantileGraph, type QuantileGraph, runQuantileGraph } from './quantileGraph';
import type { ModelSession } from './runtime';
import type { Forecast, ForecastRequest, Forecaster, ForecasterInfo } from './types';

export class QuantileModelForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: QuantileCard;
  private readonly graph: QuantileGraph;

  constructor(loaded: LoadedCard & { card: QuantileCard }, model: ModelSession) {
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

  /** One run on a constant window, so the first real call does not pay for allocation and kernel choice. */
  async warmUp(): Promise<void> {
    const L = this.card.contextLength;
    await runQuantileGraph(this.graph, new Float32Array(L).fill(1), 1, L);
  }

  /**
   * Quantiles [B, Q, H] at the card's levels (and, with `samples: N`, comonotone samples
   * derived from them).
   * @throws ModelError on bad windows, a horizon beyond the card's, non-positive prices, or
   *   non-finite model output.
   */
  forecast(request: ForecastRequest): Promise<Forecast> {
    const name = this.card.name;
    return forecastQuantileGraph(this.graph, {
      width: () => this.card.contextLength,
      refuse: (v, position) => (v <= 0 ? `${name} takes log prices: close ${v} at position ${position} is not positive` : undefined),
    }, request);
  }

  async close(): Promise<void> {
    // The session stays in the shared cache for other forecasters of this model.
  }
}
