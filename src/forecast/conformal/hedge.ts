/**
 * Exponentially weighted aggregation of experts with the AdaHedge learning rate (de Rooij, van Erven,
 * Grunwald and Koolen 2014, "Follow the leader if you can, hedge if you must", JMLR 15): the conformal
 * layer's choice of trust in its PIT map, one aggregation per stream and level pair.
 */

/**
 * AdaHedge over K experts. After losses l_1..l_{t-1} (one vector per round) the weights are
 * w_t,k proportional to exp(-eta_t L_{t-1,k}), L the cumulative losses, with the learning rate
 * eta_t = ln K / Delta_{t-1}, Delta the cumulative mixability gap
 * delta_s = w_s . l_s + (1 / eta_s) ln(sum_k w_s,k exp(-eta_s l_s,k)) >= 0 (Hedge's loss minus the
 * mix loss). While Delta = 0 (eta infinite) the weights are uniform over the leaders (follow the
 * leader); the rate needs neither the loss range nor the horizon and does not change when every loss is
 * scaled by the same factor. Regret against the best expert (their Theorem 8, losses in [0, S]):
 * sum_t w_t . l_t - min_k L_T,k <= 2 sqrt(S L* (S T - L*) ln K / (S T)) + S (16/3 ln K + 2), so at most
 * S (sqrt(T ln K) + 16/3 ln K + 2), L* = min_k L_T,k. For a loss convex in the prediction (the
 * quantile loss), the loss of the weighted mean prediction is at most w_t . l_t, so the bound holds for it.
 *
 * Delayed outcomes: a round is scored with the weights and rate the forecast was made with
 * ({@link AdaHedge.update}'s w and eta), so Delta counts the gap that forecast actually had.
 * @example
 * const a = new AdaHedge(2);
 * let { w, eta } = a.weights(); // [0.5, 0.5], eta = Infinity: no loss seen yet
 * a.update(Float64Array.of(1, 0), w, eta); // gap 0.5 (Hedge lost 0.5, the mix loss is 0)
 * ({ w, eta } = a.weights()); // eta = ln 2 / 0.5, w = [0.2, 0.8]
 */
export class AdaHedge {
  /** Cumulative loss per expert. */
  readonly loss: Float64Array;
  /** Cumulative mixability gap Delta. */
  gap = 0;
  /** Rounds scored. */
  rounds = 0;

  /** @throws RangeError for fewer than one expert. */
  constructor(readonly k: number) {
    if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`AdaHedge needs at least one expert, got ${k}`);
    this.loss = new Float64Array(k);
  }

  /** The learning rate ln K / Delta (Infinity while Delta = 0; 0 for a single expert). */
  eta(): number {
    if (this.k === 1) return 0;
    return this.gap > 0 ? Math.log(this.k) / this.gap : Infinity;
  }

  /** Current weights (sum 1) and the rate they were made with. */
  weights(): { w: Float64Array; eta: number } {
    const eta = this.eta();
    const w = new Float64Array(this.k);
    let min = Infinity;
    for (const l of this.loss) min = Math.min(min, l);
    let sum = 0;
    for (let c = 0; c < this.k; c++) {
      const d = this.loss[c] - min;
      w[c] = eta === Infinity ? (d === 0 ? 1 : 0) : Math.exp(-eta * d);
      sum += w[c];
    }
    for (let c = 0; c < this.k; c++) w[c] /= sum;
    return { w, eta };
  }

  /**
   * Scores one round: adds the losses l (one per expert, >= 0) and the round's mixability gap under
   * the weights w and rate eta the prediction was made with.
   */
  update(l: ArrayLike<number>, w: ArrayLike<number>, eta: number): void {
    let hedge = 0;
    let min = Infinity;
    for (let c = 0; c < this.k; c++) {
      hedge += w[c] * l[c];
      if (w[c] > 0) min = Math.min(min, l[c]);
      this.loss[c] += l[c];
    }
    let mix = min;
    if (eta > 0 && eta < Infinity) {
      let s = 0;
      for (let c = 0; c < this.k; c++) if (w[c] > 0) s += w[c] * Math.exp(-eta * (l[c] - min));
      mix = min - Math.log(s) / eta;
    } else if (eta === 0) {
      mix = hedge;
    }
    this.gap += Math.max(0, hedge - mix);
    this.rounds++;
  }
}
