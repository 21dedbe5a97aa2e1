import { createServer, type Server } from 'node:net';

/**
 * A free port for another process to bind, below Linux's ephemeral range (32768+). A port the
 * OS handed out for listen(0) can be given again to some outgoing connection or to a JVM's own
 * port-0 socket before the other process binds it ("Could not start rest endpoint on any port
 * in port range …"). Only for what cannot listen on port 0 and say where it is: `tickflow
 * serve --port 0` and `run --port 0` print the address they got (TickflowProcess.dashboardUrl).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = await listenOn(port).catch(() => null);
    if (server !== null) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

/** A server listening on 127.0.0.1:port (e.g. to hold a port taken). */
export function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
