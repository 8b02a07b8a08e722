/**
 * `npm run setup:cuda`: installs the CUDA execution provider of onnxruntime 1.29.0
 * beside onnxruntime-node's own native library, without NuGet (which these machines
 * cannot reach) and without making the default install heavy.
 *
 * The npm package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 ships
 * libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so of ONNX
 * Runtime 1.29.0 built for CUDA 13; onnxruntime-node 1.29.0's core loads them from its
 * own folder. They still need the CUDA 13 runtime and cuDNN 9 on LD_LIBRARY_PATH.
 * The script then opens a shipped model with device 'cuda' and says what happened.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CUDA_REQUIREMENTS, openModel } from '../src/forecast';
import { onnxruntimeLibDir } from '../src/forecast/runtime';

const ORT_VERSION = '1.29.0';
const GPU_PACKAGE = 'com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9';
const LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
const ROOT = resolve(__dirname, '..');

function say(line: string): void {
  process.stdout.write(`setup:cuda: ${line}\n`);
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

async function main(): Promise<number> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    say(`the CUDA route is for Linux x64 only (this is ${process.platform}-${process.arch})`);
    return 1;
  }
  const installed = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version as string;
  if (installed !== ORT_VERSION) {
    say(`onnxruntime-node is ${installed}; the CUDA provider is built for ${ORT_VERSION}: installing onnxruntime-node@${ORT_VERSION}`);
    npm(['install', '--save-exact', `onnxruntime-node@${ORT_VERSION}`], ROOT);
  }
  const libDir = onnxruntimeLibDir();
  if (LIBS.every((lib) => existsSync(join(libDir, lib)) && statSync(join(libDir, lib)).size > 0)) {
    say(`CUDA provider libraries already in ${libDir}`);
  } else {
    const work = mkdtempSync(join(tmpdir(), 'quantbook-cuda-'));
    try {
      say(`fetching ${GPU_PACKAGE} from the npm registry (about 180 MB)`);
      const tarball = npm(['pack', GPU_PACKAGE, '--pack-destination', work, '--silent'], work).trim().split('\n').pop()!;
      const inner = LIBS.map((lib) => `package/Plugins/Linux/x64/${lib}`);
      execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, ...inner]);
      for (const lib of LIBS) copyFileSync(join(work, 'package/Plugins/Linux/x64', lib), join(libDir, lib));
      say(`copied ${LIBS.join(', ')} to ${libDir}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  say(`checking: ${CUDA_REQUIREMENTS}; LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? '(unset)'}`);
  try {
    const model = await openModel(join(ROOT, 'models', 'qb-quantile-s.json'), { device: 'cuda' });
    const f = await model.forecast({ context: new Float64Array(512).fill(100), horizon: 8 });
    say(`CUDA works: a forecast ran on device ${f.meta.device} in ${f.meta.timings.totalMs.toFixed(1)} ms`);
  } catch (err) {
    say(`installed, but CUDA cannot run here: ${(err as Error).message}`);
    say("device 'auto' will use the CPU on this machine; install the CUDA 13 runtime and cuDNN 9 and put their lib folders on LD_LIBRARY_PATH");
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`setup:cuda failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
