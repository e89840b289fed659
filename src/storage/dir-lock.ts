// One process per data directory: a `LOCK` file holding the owner's pid,
// created exclusively. Two processes appending to one WAL would interleave
// records and corrupt it. A lock left by a process that died (SIGKILL, power
// loss) is taken over when that pid is no longer running.

import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';

export class DirectoryLockedError extends Error {
  override readonly name = 'DirectoryLockedError';
}

/** Locks `dir`; returns the function that unlocks it. */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => unlink(path).catch(() => undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && isRunning(owner)) {
      throw new DirectoryLockedError(
        `${dir} is in use by process ${owner} (${path}); stop that process first, or remove the lock file if it is not a synod process`,
      );
    }
    // The owner is gone: the lock is stale.
    await unlink(path).catch(() => undefined);
  }
  throw new DirectoryLockedError(`could not lock ${dir}: another process keeps taking ${path}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
