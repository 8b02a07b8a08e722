/**
 * Keeps `dist/` fresh for notebooks: they import the compiled library
 * (`../dist/...`) because tslab compiles TypeScript only under the kernel's
 * working directory. In a source checkout (src/ and tsconfig.build.json
 * present) the runner rebuilds when any source is newer than the build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NotebookError } from '../../core/errors';

function isQuantbookPackage(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'quantbook';
  } catch {
    return false;
  }
}

/**
 * The package root (the folder whose package.json is named quantbook), found upwards from this file.
 * @example packageRoot() // '/home/me/quantbook'
 */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (isQuantbookPackage(dir)) return dir;
    if (dirname(dir) === dir) throw new NotebookError('cannot find the quantbook package root', { file: __dirname });
  }
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * True when `dist/` is missing or older than any `src/**.ts` or the build config.
 * (tsc rewrites every output, so dist/index.js's time is the build's time.)
 * @example isBuildStale() // true after editing src/, false after npm run build
 */
export function isBuildStale(root = packageRoot()): boolean {
  const built = join(root, 'dist', 'index.js');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const config = join(root, 'tsconfig.build.json');
  return newestMtime(join(root, 'src'), '.ts') > builtAt || statSync(config).mtimeMs > builtAt;
}

/**
 * Rebuilds `dist/` with the project's TypeScript when it is stale; does
 * nothing outside a source checkout.
 * @returns whether a build ran.
 * @throws NotebookError when the build fails (with the compiler's output).
 * @example ensureFreshBuild() // false when dist/ is fresh
 */
export function ensureFreshBuild(root = packageRoot()): boolean {
  if (!existsSync(join(root, 'src')) || !existsSync(join(root, 'tsconfig.build.json'))) return false;
  if (!isBuildStale(root)) return false;
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
      cwd: root, stdio: 'pipe',
    });
  } catch (err) {
    const out = `${(err as { stdout?: Buffer }).stdout ?? ''}${(err as { stderr?: Buffer }).stderr ?? ''}`.trim();
    throw new NotebookError(`the library build (npm run build) failed, so notebooks cannot import ../dist:\n${out.slice(0, 2000)}`, { file: join(root, 'tsconfig.build.json') });
  }
  return true;
}
