import { connect, type Socket } from 'node:net';

interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  connect_timeout?: number;
}

/**
 * postgres.js opens its sockets with Nagle's algorithm on; every COPY and commit round trip
 * then waits on the peer's delayed ACK (~40 ms), which halved our ingest rate. This factory
 * opens the same connection with TCP_NODELAY.
 */
export async function noDelaySocket(o: SocketOptions): Promise<Socket> {
  const timeoutMs = (o.connect_timeout ?? 30) * 1000;
  let lastError: unknown;
  const targets = o.path ? [{ path: o.path }] : o.host.map((host, i) => ({ host, port: o.port[i] ?? o.port[0] ?? 5432 }));
  for (const target of targets) {
    const socket = connect({ ...target, noDelay: true });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(Object.assign(new Error('connect timeout'), { code: 'CONNECT_TIMEOUT' })), timeoutMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      return socket;
    } catch (e) {
      socket.destroy();
      lastError = e;
    }
  }
  throw lastError;
}
