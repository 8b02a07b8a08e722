/**
 * Registers the tslab kernel with Jupyter so JupyterLab (and nbconvert) start
 * the same kernel the headless runner does: this checkout's tslab under this
 * Node binary.
 */
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/output';
import { defaultKernelArgv } from './kernel';
import { packageRoot } from './build';

/**
 * Where to register: the project's own prefix `.jupyter/` (default; leaves the
 * user's Jupyter untouched), the user's Jupyter data folder, or any prefix
 * (`<prefix>/share/jupyter/kernels`, as `jupyter kernelspec install --prefix`).
 */
export type KernelSpecScope = { kind: 'project' } | { kind: 'user' } | { kind: 'prefix'; prefix: string };

/** The kernel name notebooks declare in `metadata.kernelspec.name` (tslab's own). */
export const KERNEL_NAME = 'tslab';

/**
 * The Jupyter data folder of a prefix (`<prefix>/share/jupyter`), for `JUPYTER_PATH`.
 * @example prefixJupyterPath('/tmp/p') // '/tmp/p/share/jupyter'
 */
export function prefixJupyterPath(prefix: string): string {
  return join(prefix, 'share', 'jupyter');
}

/**
 * The Jupyter data folder of the project prefix (`<root>/.jupyter/share/jupyter`), for `JUPYTER_PATH`.
 * @example projectJupyterPath() // '<root>/.jupyter/share/jupyter'
 */
export function projectJupyterPath(root = packageRoot()): string {
  return prefixJupyterPath(join(root, '.jupyter'));
}

function userJupyterDataDir(): string {
  try {
    return execFileSync('jupyter', ['--data-dir'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'jupyter');
  }
}

/**
 * The kernel.json content: absolute paths, so it works from any folder and any PATH.
 * @example kernelSpec().interrupt_mode // 'signal'
 */
function kernelSpec(): Record<string, unknown> {
  return {
    argv: defaultKernelArgv(),
    display_name: 'TypeScript (quantbook)',
    language: 'typescript',
    interrupt_mode: 'signal',
    metadata: { quantbook: { root: packageRoot() } },
  };
}

/**
 * Writes `kernels/tslab/kernel.json` into the chosen Jupyter data folder
 * (what `jupyter kernelspec install --prefix|--user` does).
 * @returns the kernel folder written.
 * @example installKernelSpec({ kind: 'project' }) // '<root>/.jupyter/share/jupyter/kernels/tslab'
 */
export function installKernelSpec(scope: KernelSpecScope = { kind: 'project' }): string {
  const dataDir = scope.kind === 'project' ? projectJupyterPath() : scope.kind === 'user' ? userJupyterDataDir() : prefixJupyterPath(scope.prefix);
  const dir = join(dataDir, 'kernels', KERNEL_NAME);
  writeFileAtomic(join(dir, 'kernel.json'), `${JSON.stringify(kernelSpec(), null, 2)}\n`);
  return dir;
}
