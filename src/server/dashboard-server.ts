import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { TickflowError } from '../tickflow-error.ts';
import type { SqlClient } from '../store/store.ts';
import { isLoopbackHost, tokenProblem } from './access.ts';
import { createApp } from './app.ts';
import type { LiveFeed } from './live-feed.ts';

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';

export interface DashboardOptions {
  db: SqlClient;
  feed: LiveFeed;
  host: string;
  port: number;
  token: string | null;
  /** When the port was not asked for explicitly, a busy one is replaced by a free one. */
  portIsDefault?: boolean;
  log?: (line: string) => void;
}

export interface Dashboard {
  /** The address to open (with a token: open it once as …/?token=<token>). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Refuses a weak token, and a non-loopback host without a token. */
export function checkAccess(host: string, token: string | null): void {
  if (token !== null) {
    const problem = tokenProblem(token);
    if (problem !== null) throw new TickflowError('bad_config', `--token: ${problem}`);
  }
  if (!isLoopbackHost(host) && token === null) {
    throw new TickflowError('bad_config', `--host ${host} is reachable from other machines: give --token (or TICKFLOW_TOKEN), or bind 127.0.0.1`);
  }
}

/** Validate the access settings, then listen. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  checkAccess(o.host, o.token);
  const app = createApp({ db: o.db, feed: o.feed, token: o.token, ...(o.log ? { log: o.log } : {}) });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  let port: number;
  try {
    port = await listen(server, o.host, o.port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' && o.portIsDefault) {
      port = await listen(server, o.host, 0);
      o.log?.(`tickflow: port ${o.port} is in use; the dashboard uses ${port} instead`);
    } else if (code === 'EADDRINUSE') {
      throw new TickflowError('dashboard_unavailable', `--port: ${o.port} is already in use on ${o.host}`);
    } else if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new TickflowError('dashboard_unavailable', `--host: cannot listen on ${o.host} (${code})`);
    } else if (code === 'EACCES') {
      throw new TickflowError('dashboard_unavailable', `--port: not allowed to listen on ${o.port} (EACCES)`);
    } else {
      throw e;
    }
  }
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    port,
    close: async () => {
      // The watchlist's first read may still be running (a short run ends before it): the
      // database closes after the dashboard, so let it finish rather than fail against a closed one.
      await o.feed.hub.watchlist.idle();
      await o.feed.close(); // ends the live streams, so the server can close
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = (): void => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
