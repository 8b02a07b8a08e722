/**
 * The signal layer: features and labels without look-ahead for a tree model that learns when
 * the forecasts pay.
 */
export { buildSignalFeatures, type ForecastFeatures, type SignalFeatureOptions, type FeatureMatrix } from './features';
export { forwardReturnLabels, tripleBarrierLabels, type Labels, type TripleBarrierOptions, type TripleBarrierLabels } from './labels';
export { walkForwardSignal, binaryKelly, kellySignals, type WalkForwardSignal, type WalkForwardSignalOptions } from './walkforward';
export { importanceShares, type ImportanceShares } from './importance';
