import { connect, type Socket } from 'node:net';

interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
}

let next = 0;

/**
 * postgres.js opens its sockets with Nagle's algorithm on; every COPY and commit round trip
 * then waits on the peer's delayed ACK (~40 ms), which halved our ingest rate. This factory
 * opens the same connection with TCP_NODELAY.
 *
 * It returns the socket while it is still connecting and never throws: postgres.js queues its
 * first writes on it, and a refused or timed-out connect then arrives as the socket's
 * 'error' + 'close', which postgres.js turns into a failed query and a reusable connection.
 * A factory that throws instead leaves that pool slot "connecting" forever (postgres.js 3.4
 * never calls its close handler then), so after `max` failures — one database restart — every
 * later query hangs.
 */
export function noDelaySocket(o: SocketOptions): Socket {
  if (o.path) return connect({ path: o.path });
  // Several hosts: each new connection tries the next, as postgres.js does without a factory.
  const i = next++ % o.host.length;
  return connect({ host: o.host[i]!, port: o.port[i] ?? o.port[0] ?? 5432, noDelay: true });
}
