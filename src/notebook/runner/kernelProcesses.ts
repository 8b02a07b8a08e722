/**
 * The kernel processes this process started and their connection folders:
 * writing a connection file privately, tracking each child, and killing them
 * all (with their folders and port locks) when the runner stops or exits.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseAllPorts } from './ports';

// Kernels this process started, with their connection folders; folders also while their kernel starts.
const liveKernels = new Set<ChildProcess>();
const connectionDirs = new Set<string>();

/**
 * Kills every kernel this process started (SIGKILL) and removes their
 * connection files, synchronously: for a CLI's SIGINT/SIGTERM handler and
 * the process's `exit` event. A runner killed with SIGKILL cannot run this;
 * its kernels' watchdogs end them instead (see `watchdog.ts`).
 * @example process.once('SIGTERM', () => { killAllKernels(); process.exit(143); })
 */
export function killAllKernels(): void {
  for (const c of liveKernels) c.kill('SIGKILL');
  for (const dir of connectionDirs) rmSync(dir, { recursive: true, force: true });
  connectionDirs.clear();
  releaseAllPorts();
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A runner that crashes or calls process.exit must not leave kernels or keys behind.
    process.once('exit', killAllKernels);
  }
}

/** Counts the kernel as live until it exits (for {@link killAllKernels}). */
export function trackChild(child: ChildProcess): void {
  liveKernels.add(child);
  child.once('exit', () => liveKernels.delete(child));
}

/**
 * Writes the connection file into a fresh private folder: the folder is
 * created 0700 and the file opened with O_EXCL and mode 0600, so the signing
 * key is never readable by another user, not even for an instant.
 */
export function writeConnectionFile(content: Record<string, unknown>): { dir: string; file: string } {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'quantbook-kernel-'));
  connectionDirs.add(dir);
  const file = join(dir, 'connection.json');
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(content));
  } finally {
    closeSync(fd);
  }
  return { dir, file };
}

/**
 * Removes a kernel's connection folder once the kernel is gone. Retries: the kernel's watchdog may
 * still be removing files in it (seen after `kill -9` of the runner under load).
 */
export function removeConnectionDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 5 });
  connectionDirs.delete(dir);
}
