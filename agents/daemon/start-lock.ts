import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { UserFacingError } from '../../common/errors';

/**
 * A short-lived lock around "is a daemon alive? remove the stale socket, listen". Without it two
 * daemons started at once (two attaches racing) could each find the socket stale, and the second
 * would unlink the socket the first had just bound. The lock file holds its owner's pid; a lock whose
 * owner is dead, or that is older than `staleMs`, is taken over.
 */
export async function withStartLock<T>(lockPath: string, fn: () => Promise<T>, opts: { waitMs?: number; staleMs?: number } = {}): Promise<T> {
  const waitMs = opts.waitMs ?? 15_000;
  const staleMs = opts.staleMs ?? 30_000;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await fsp.open(lockPath, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockPath, staleMs)) {
      await fsp.rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new UserFacingError('agent-start-locked', `Another agent daemon has been starting for over ${Math.round(waitMs / 1000)} s (lock ${lockPath}). If no agent is starting, remove that file and try again.`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lockPath, { force: true });
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([fsp.readFile(lockPath, 'utf8'), fsp.stat(lockPath)]);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const pid = Number(text.trim());
    // An empty file is a lock being written right now, not a stale one.
    if (!Number.isInteger(pid) || pid <= 0) return false;
    return !pidAlive(pid);
  } catch (err) {
    // Vanished between open and read: the holder released it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, parent has not reaped it: common for orphans in containers whose pid 1 does not reap) is dead.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
