import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackLayout } from './layout.ts';
import { isAlive } from './processes.ts';
import { stackError } from './stack-error.ts';

/**
 * One `up` at a time per stack folder: two at once would both find the ports free and start
 * two of everything. The second waits for the first, then finds the stack running.
 */
export async function withUpLock<T>(layout: StackLayout, timeoutMs: number, action: () => Promise<T>): Promise<T> {
  await mkdir(layout.run, { recursive: true });
  const path = join(layout.run, 'up.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      // A lock left by a process that died (Ctrl-C, kill -9) is stale.
      if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw stackError(`another \`tickflow stack up\` (pid ${holder}) is still running for ${layout.root}`);
      await sleep(250);
    }
  }
  try {
    return await action();
  } finally {
    await rm(path, { force: true });
  }
}
