import { resolveSetting } from '../config/resolve.ts';
import { execFile } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { stackError } from './stack-error.ts';

const run = promisify(execFile);

/** The Maven the stack runs: TICKFLOW_MVN, else `mvn` on the PATH. */
export const mavenCommand = (): string => resolveSetting('mvn', { env: process.env });

/**
 * Runs Maven with `args`, appending the command and all its output to `logPath`. A failure is
 * one stack_failed error: `<what> failed`, Maven's first ERROR line (or the timeout), and the log's path.
 */
export async function runMaven(args: string[], o: { what: string; logPath: string; timeoutMs: number }): Promise<void> {
  const mvn = mavenCommand();
  await appendFile(o.logPath, `$ ${mvn} ${args.join(' ')}\n`);
  try {
    const { stdout, stderr } = await run(mvn, args, { timeout: o.timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    await appendFile(o.logPath, stdout + stderr);
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; killed?: boolean; code?: unknown; message: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    await appendFile(o.logPath, output);
    if (e.code === 'ENOENT') throw stackError(`Maven not found (${mvn}): ${o.what} needs it — install it (apt-get install maven) or set TICKFLOW_MVN`);
    const errors = output
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .slice(0, 3)
      .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim());
    const why = e.killed ? `timed out after ${Math.round(o.timeoutMs / 1000)} s` : (errors[0] ?? e.message.split('\n')[0]);
    throw stackError(`${o.what} failed: ${why} (full output: ${o.logPath})`, 'environment', errors.slice(1));
  }
}
