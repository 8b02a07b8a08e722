/**
 * Whether a process with this pid exists on this machine: signal 0 probes without sending (EPERM:
 * it exists under another user). Used by the lock files (data store, catalogue, kernel ports) to
 * tell a live holder from a stale lock.
 * @example pidAlive(process.pid) // true
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
