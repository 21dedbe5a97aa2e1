import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True when nothing listens on host:port (we could bind it ourselves). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Best effort: "java (pid 1234)" for the listener on a port, via `ss`; null when unknown. */
export async function portOwner(port: number): Promise<string | null> {
  try {
    const { stdout } = await run('ss', ['-Hltnp', `sport = :${port}`], { timeout: 2000 });
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    return match ? `${match[1]} (pid ${match[2]})` : null;
  } catch {
    return null;
  }
}
