/**
 * onnxruntime-node sessions: file and sha256 checks, device choice (CPU or the
 * CUDA execution provider), the card-against-graph check, and a cache so each
 * model is loaded and warmed up once per device and thread count.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../core/errors';
import type { LoadedCard, ModelCard, TensorSpec } from './card';
import type { Device } from './types';

/** Options of a session; `threads` is onnxruntime's intra-op thread count (default: its own, all cores). */
export interface RuntimeOptions {
  device: Device;
  threads?: number;
  /** Where the one line about the device choice of `auto` goes. Default: stderr. */
  log?: (line: string) => void;
}

/** A loaded session and what it runs on. */
export interface ModelSession {
  session: ort.InferenceSession;
  device: 'cpu' | 'cuda';
  /** Set by the forecaster once its warm-up run has been made. */
  warmedUp: Promise<void> | null;
}

/** What `device: 'cuda'` needs, said in every CUDA error. */
export const CUDA_REQUIREMENTS =
  'CUDA needs `npm run setup:cuda` (CUDA provider libraries of onnxruntime 1.29.0) and the CUDA 13 runtime with cuDNN 9 on LD_LIBRARY_PATH';

const sessions = new Map<string, Promise<ModelSession>>();

// onnxruntime's own logger would print a second, coloured copy of every failure to stderr;
// failures reach the caller as ModelErrors instead (with `cudaDiagnosis` for CUDA).
ort.env.logLevel = 'fatal';

/**
 * Folder of onnxruntime-node's native library, where `npm run setup:cuda` puts the CUDA provider.
 * @example onnxruntimeLibDir() // '.../node_modules/onnxruntime-node/bin/napi-v6/linux/x64'
 */
export function onnxruntimeLibDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Why the CUDA execution provider cannot load, in words: provider libraries missing, or
 * the dynamic loader's message for the CUDA provider (it names the missing CUDA library,
 * e.g. `libcublasLt.so.13`).
 * @example cudaDiagnosis() // 'libcublasLt.so.13: cannot open shared object file: ...' after setup:cuda on a machine without CUDA 13
 */
export function cudaDiagnosis(): string {
  const dir = onnxruntimeLibDir();
  const missing = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) return `${missing.join(' and ')} not found in ${dir}`;
  try {
    // Not a Node addon: dlopen either fails naming the missing dependency, or loads and then
    // fails to register, which means the libraries themselves load.
    process.dlopen({ exports: {} } as NodeJS.Module, join(dir, 'libonnxruntime_providers_cuda.so'));
  } catch (err) {
    const msg = firstLine(err);
    if (!/self-register/i.test(msg)) return msg;
  }
  return 'the CUDA provider libraries load, but no CUDA device could be used';
}

/**
 * Opens (or reuses) the session of a card's ONNX file.
 * @throws ModelError when the file is missing, its sha256 differs from the card, it is not a
 *   loadable ONNX graph, the graph differs from the card, or `device: 'cuda'` cannot load.
 * @example (await openSession(loadCard('models/qb-ar-s.json'), { device: 'cpu', threads: 1 })).device // 'cpu'
 */
export function openSession(loaded: LoadedCard, opts: RuntimeOptions): Promise<ModelSession> {
  const key = `${loaded.onnxPath}|${loaded.card.sha256}|${opts.device}|${opts.threads ?? 0}`;
  let pending = sessions.get(key);
  if (!pending) {
    pending = createSession(loaded, opts);
    sessions.set(key, pending);
    // A failed open is not cached: the user may fix the file or install CUDA and retry.
    pending.catch(() => sessions.delete(key));
  }
  return pending;
}

/**
 * Drops every cached session (tests, or after replacing a model file).
 * @example await clearSessionCache(); // the next openModel loads from disk again
 */
export async function clearSessionCache(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const p of all) {
    try {
      await (await p).session.release();
    } catch {
      // a session that failed to open has nothing to release
    }
  }
}

async function createSession(loaded: LoadedCard, opts: RuntimeOptions): Promise<ModelSession> {
  const { card, onnxPath } = loaded;
  let bytes: Buffer;
  try {
    bytes = readFileSync(onnxPath);
  } catch (err) {
    throw new ModelError(`ONNX file of model ${card.name} cannot be read: check the card's "file"`, { file: onnxPath }, { cause: err });
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== card.sha256) {
    throw new ModelError(
      `sha256 of the ONNX file is ${digest}, the card says ${card.sha256}: the file is corrupt or not the one the card describes`,
      { file: onnxPath, key: 'sha256' },
    );
  }
  const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  if (opts.threads !== undefined) {
    base.intraOpNumThreads = opts.threads;
    base.interOpNumThreads = 1;
  }
  let result: ModelSession;
  if (opts.device === 'cpu') {
    result = { session: await create(bytes, { ...base, executionProviders: ['cpu'] }, onnxPath), device: 'cpu', warmedUp: null };
  } else {
    try {
      result = { session: await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cuda'] }), device: 'cuda', warmedUp: null };
    } catch (err) {
      const why = `${firstLine(err)}: ${cudaDiagnosis()}`;
      if (opts.device === 'cuda') {
        throw new ModelError(`device 'cuda' cannot load: ${why}. ${CUDA_REQUIREMENTS}`, { file: onnxPath, key: 'device' }, { cause: err });
      }
      (opts.log ?? defaultLog)(`quantbook: ${card.name}: CUDA unavailable (${why}); running on CPU`);
      result = { session: await create(bytes, { ...base, executionProviders: ['cpu'] }, onnxPath), device: 'cpu', warmedUp: null };
    }
  }
  checkGraph(card, result.session, onnxPath);
  return result;
}

async function create(bytes: Buffer, options: ort.InferenceSession.SessionOptions, file: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (err) {
    throw new ModelError(`ONNX file cannot be loaded (corrupt or not an ONNX model): ${firstLine(err)}`, { file }, { cause: err });
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Checks that the graph has exactly the card's inputs and outputs, with the same
 * dtypes, ranks and fixed sizes (a symbolic size on either side matches any).
 * @throws ModelError naming the tensor and what differs.
 * @example checkGraph(card, session, 'model.onnx') // throws: input "ctx" is not in the graph (graph inputs: context)
 */
export function checkGraph(card: ModelCard, session: ort.InferenceSession, file: string): void {
  compare('input', card.inputs, session.inputMetadata, card, file);
  compare('output', card.outputs, session.outputMetadata, card, file);
}

function compare(
  what: 'input' | 'output',
  specs: TensorSpec[],
  metas: readonly ort.InferenceSession.ValueMetadata[],
  card: ModelCard,
  file: string,
): void {
  const key = `${what}s`;
  const fail = (problem: string): never => {
    throw new ModelError(`the card of ${card.name} does not match its graph: ${problem}; fix the card or re-export`, { file, key });
  };
  const graphNames = metas.map((m) => m.name);
  for (const spec of specs) {
    const meta = metas.find((m) => m.name === spec.name);
    if (!meta) fail(`${what} "${spec.name}" is not in the graph (graph ${key}: ${graphNames.join(', ')})`);
    else if (!meta.isTensor) fail(`${what} "${spec.name}" is not a tensor in the graph`);
    else {
      if (meta.type !== spec.dtype) fail(`${what} "${spec.name}" is ${meta.type} in the graph, ${spec.dtype} in the card`);
      if (meta.shape.length !== spec.shape.length) {
        fail(`${what} "${spec.name}" has rank ${meta.shape.length} in the graph, ${spec.shape.length} in the card`);
      }
      meta.shape.forEach((g, i) => {
        const c = spec.shape[i];
        if (typeof g === 'number' && typeof c === 'number' && g !== c) {
          fail(`${what} "${spec.name}" dimension ${i} is ${g} in the graph, ${c} in the card`);
        }
      });
    }
  }
  for (const name of graphNames) {
    if (!specs.some((s) => s.name === name)) fail(`graph ${what} "${name}" is missing from the card`);
  }
}
