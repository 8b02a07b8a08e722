import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Mounts a tmpfs with `options` (e.g. `['size=256k']`, `['ro']`) on a fresh folder, or says why it
 * cannot (not root, no mount in the container); `unmount` unmounts and removes the folder.
 * @example const fs = mountTmpfs(['size=256k']); it.skipIf(!fs.dir)(`... ${fs.reason ?? ''}`, ...); afterAll(fs.unmount)
 */
export function mountTmpfs(options: string[]): { dir?: string; reason?: string; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'qb-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split('\n')[0];
    return { reason: `mounting a tmpfs is not permitted here: ${why || 'mount failed'}`, unmount: () => {} };
  }
  return {
    dir,
    unmount: () => {
      if (!existsSync(dir)) return;
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
