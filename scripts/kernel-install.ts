/**
 * `npm run kernel:install [-- --user]`: registers the tslab kernel for
 * JupyterLab and nbconvert. Default: the project prefix `.jupyter/` (the
 * user's Jupyter stays untouched; JupyterLab finds it through JUPYTER_PATH).
 * `--user`: the user's Jupyter data folder, found by every Jupyter session.
 */
import { execFileSync } from 'node:child_process';
import { installKernelSpec, projectJupyterPath } from '../src/notebook/runner/kernelspec';
import { packageRoot } from '../src/notebook/runner/build';

const user = process.argv.includes('--user');
const dir = installKernelSpec(user ? { kind: 'user' } : { kind: 'project' });
const root = packageRoot();
console.log(`Installed the tslab kernel spec (${user ? 'user' : 'project prefix'}): ${dir}/kernel.json`);

const env = user ? process.env : { ...process.env, JUPYTER_PATH: projectJupyterPath() };
try {
  // Debian ships jupyter_client without the `jupyter kernelspec` command; the module is the same program.
  const listing = execFileSync('/usr/bin/python3', ['-m', 'jupyter_client.kernelspecapp', 'list'], {
    env: { ...env, PYDEVD_DISABLE_FILE_VALIDATION: '1' }, stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  console.log(`Jupyter sees:\n${listing.trimEnd()}`);
} catch {
  console.log('(jupyter_client is not installed here, so the registration could not be listed)');
}

const pathPrefix = user ? '' : `JUPYTER_PATH=${projectJupyterPath()} `;
console.log(`
Start JupyterLab on the notebooks (the kernel starts in each notebook's folder, notebooks/):
  cd ${root}
  npm run build            # notebooks import the compiled library from ../dist
  ${pathPrefix}jupyter lab notebooks/
Without JupyterLab (Debian packages only the classic notebook):
  ${pathPrefix}jupyter notebook notebooks/
Run a notebook through Jupyter's own machinery:
  ${pathPrefix}jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=tslab notebooks/00-pipeline-sample.ipynb --output-dir /tmp
`);
