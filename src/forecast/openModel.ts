/**
 * `openModel`: the one entry point from a model card (or a baseline name) to a
 * ready, warmed-up `Forecaster`.
 */
import { existsSync } from 'node:fs';
import { ConfigError, ModelError } from '../core/errors';
import { AutoregressiveForecaster } from './autoregressive';
import { EnsembleForecaster, parseEnsembleSpec } from './ensemble';
import { createNamedForecaster } from './named';
import { graphCard, loadCard, type KronosCard, type LoadedCard } from './card';
import { TotoForecaster } from './families/toto';
import { openKronos } from './families/kronos';
import { ChronosForecaster } from './families/chronos';
import { ChronosBoltForecaster } from './families/chronosBolt';
import { FallbackForecaster } from './fallback';
import { QuantileModelForecaster } from './quantileModel';
import { openSession } from './runtime';
import type { Device, Forecaster, SamplingOptions } from './types';

/** Options of `openModel`. */
export interface OpenModelOptions {
  /** `auto` (default) uses CUDA when its execution provider loads, else the CPU, and logs one line saying so. */
  device?: Device;
  /** onnxruntime intra-op threads. Default 1: the shipped models are small, and on 2 shared cores one thread measured faster
   * than two (see bench/forecast.ts). */
  threads?: number;
  /** Sampler defaults of autoregressive models (a request's `sampling` overrides them). */
  sampling?: Partial<SamplingOptions>;
  /**
   * Forecaster used when the model is missing or fails, or a window is too short:
   * a baseline or volatility model name, or any Forecaster. Every use is counted in `meta.fallback`.
   */
  fallback?: string | Forecaster;
  /** Where the device line of `auto` goes (default stderr). */
  log?: (line: string) => void;
}

/**
 * Opens a model card (or a baseline by name) as a Forecaster: checks the card, the
 * file's sha256 and the graph against the card, picks the device, warms the session
 * up once (sessions are cached per model, device and threads).
 *
 * Card families: `quantile`, `autoregressive`, `chronos-bolt` and `chronos` (two graphs: the
 * encoder in `file`, the decoder in `decoder`, each checked and cached like any graph).
 *
 * @param cardPath - path of a `models/*.json` card, or `naive`, `trend`, `historical`, `oracle`, `ewma`, `garch`, `gjr-garch`,
 *   or an ensemble of those: `ensemble:garch+historical` (quantile averaging), `mixture:a*0.7+b*0.3` (mixed paths).
 * @throws ModelError when the card or file is missing, corrupt or does not match its graph,
 *   or `device: 'cuda'` cannot load (never a silent CPU run), unless a fallback is configured
 *   (a CUDA failure is always thrown).
 * @example
 * const model = await openModel('models/qb-ar-s.json', { device: 'cpu' });
 * const f = await model.forecast({ context: closes, horizon: 30, samples: 100, seed: 1 });
 * f.samples!.dims // [1, 100, 30]
 */
export async function openModel(cardPath: string, opts: OpenModelOptions = {}): Promise<Forecaster> {
  const ensemble = parseEnsembleSpec(cardPath);
  if (ensemble) {
    // `ensemble:a+b*2` / `mixture:...`: members opened like any model, without the fallback (it wraps the whole).
    const members: Forecaster[] = [];
    for (const name of ensemble.members) members.push(await openModel(name, { ...opts, fallback: undefined }));
    const e = new EnsembleForecaster(members, { weights: ensemble.weights, mode: ensemble.mode });
    const fb = typeof opts.fallback === 'string' ? createNamedForecaster(opts.fallback) : opts.fallback;
    return fb ? new FallbackForecaster(e, fb) : e;
  }
  const fallback = typeof opts.fallback === 'string' ? createNamedForecaster(opts.fallback) : opts.fallback;
  if (!existsSync(cardPath) && !cardPath.endsWith('.json')) {
    // Not a file and not a card path: a baseline or volatility model by name (others are rejected).
    const baseline = createNamedForecaster(cardPath);
    return fallback ? new FallbackForecaster(baseline, fallback) : baseline;
  }
  let model: Forecaster;
  try {
    model = await openCardModel(loadCard(cardPath), opts);
  } catch (err) {
    const cudaFailure = err instanceof ModelError && err.location.key === 'device';
    if (!fallback || cudaFailure) throw err;
    return new FallbackForecaster(null, fallback, err instanceof Error ? err.message : String(err));
  }
  return fallback ? new FallbackForecaster(model, fallback) : model;
}

async function openCardModel(loaded: LoadedCard, opts: OpenModelOptions): Promise<Forecaster> {
  const device = opts.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) {
    throw new ConfigError("device must be 'auto', 'cpu' or 'cuda'", { key: 'device', value: device });
  }
  const runtime = { device, threads: opts.threads ?? 1, log: opts.log };
  if (loaded.card.family === 'kronos') {
    const kronos = await openKronos(loaded as LoadedCard & { card: KronosCard }, runtime, opts.sampling);
    await kronos.warmUp();
    return kronos;
  }
  const session = await openSession(loaded, runtime);
  const card = loaded.card;
  let forecaster: Forecaster & { warmUp(): Promise<void> };
  switch (card.family) {
    case 'quantile':
      forecaster = new QuantileModelForecaster({ ...loaded, card }, session);
      break;
    case 'autoregressive':
      forecaster = new AutoregressiveForecaster({ ...loaded, card }, session, opts.sampling);
      break;
    case 'chronos-bolt':
      forecaster = new ChronosBoltForecaster({ ...loaded, card }, session);
      break;
    case 'toto':
      forecaster = new TotoForecaster({ ...loaded, card }, session);
      break;
    case 'chronos': {
      const decoder = await openSession(graphCard({ ...loaded, card }, card.decoder), runtime);
      forecaster = new ChronosForecaster({ ...loaded, card }, session, decoder, opts.sampling);
      break;
    }
  }
  // One warm-up per cached session, shared by every forecaster opened on it.
  session.warmedUp ??= forecaster.warmUp();
  await session.warmedUp;
  return forecaster;
}
