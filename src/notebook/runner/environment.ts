/**
 * Facts about where a run happened, for the report's provenance header.
 */
import { execFileSync } from 'node:child_process';
import { cpus, hostname } from 'node:os';
import type { GitState } from '../records/run';

const gitCache = new Map<string, GitState | null>();

/**
 * The checkout's commit (cached per folder), or null outside git.
 * @example gitState('notebooks') // { commit: '4e3560d2...', dirty: false }
 */
export function gitState(dir: string): GitState | null {
  if (gitCache.has(dir)) return gitCache.get(dir)!;
  let state: GitState | null = null;
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    state = { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no').length > 0 };
  } catch {
    state = null;
  }
  gitCache.set(dir, state);
  return state;
}

/**
 * Host description: `hostname, 16 x AMD EPYC ..., node v20.19.0`.
 * @example hostDescription() // 'box, 16 x AMD EPYC 9454, node v20.19.0'
 */
export function hostDescription(): string {
  const cpu = cpus();
  return `${hostname()}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}`;
}
