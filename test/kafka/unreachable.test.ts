import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tickflow } from '../support/cli.ts';
import { freePort } from '../support/ports.ts';
import { BROKERS } from './kafka-support.ts';

/**
 * A dead broker must produce one clear line and a non-zero exit within the connect timeout —
 * both when nothing listens (refused) and when something accepts but never answers (hang).
 */
let silent: Server;
let silentPort = 0;
const sockets: Socket[] = [];

beforeAll(async () => {
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

describe('broker unreachable', () => {
  for (const [name, args] of [
    ['produce', ['produce', '--count', '10']],
    ['run --source kafka', ['run', '--source', 'kafka', '--db', 'memory', '--no-dashboard']],
    ['topics list', ['topics', 'list']],
    ['topics create', ['topics', 'create']],
    ['topics describe', ['topics', 'describe']],
    ['alerts tail', ['alerts', 'tail']],
    ['serve (alerts from the topic)', ['serve', '--db', 'memory', '--port', '0']],
  ] as const) {
    it(`${name}: nothing listening → one line, exit 2, at once`, async () => {
      const port = await freePort();
      // A command that waits instead of failing at once is killed after 20 s (exit null).
      const r = await tickflow([...args, '--brokers', `127.0.0.1:${port}`, '--connect-timeout', '3'], { timeoutMs: 20_000 });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:\d+ .*ECONNREFUSED/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('produce: a broker that accepts but never answers → error within the connect timeout', async () => {
    const t0 = Date.now();
    // One that hangs past the connect timeout is killed after 20 s (exit null).
    const r = await tickflow(['produce', '--count', '10', '--brokers', `127.0.0.1:${silentPort}`, '--connect-timeout', '3'], { timeoutMs: 20_000 });
    const took = Date.now() - t0;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:\d+/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // It waited for the broker's answer as long as it was told to.
    expect(took).toBeGreaterThanOrEqual(3_000);
  });

  it('SASL credentials the broker cannot take (it speaks PLAINTEXT): one line, exit 2, the password nowhere', async () => {
    const password = 'Sasl-pw-n0t-f0r-l0gs';
    const env = { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: password, TICKFLOW_DEBUG: '1' };
    for (const args of [
      ['topics', 'list'],
      ['produce', '--count', '1'],
      ['run', '--source', 'kafka', '--db', 'memory', '--no-dashboard'],
      ['alerts', 'tail'],
    ]) {
      const r = await tickflow([...args, '--brokers', BROKERS, '--connect-timeout', '5'], { env, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      // The handshake was attempted: the broker answered the SASL request, and said no.
      expect(r.stderr).toMatch(/cannot reach Kafka at .*SASL/);
      expect(r.stdout + r.stderr).not.toContain(password);
    }
    // The Kafka client's own debug output (DEBUG=*) and Node's socket tracing do not carry it either.
    const traced = await tickflow(['topics', 'list', '--brokers', BROKERS, '--connect-timeout', '5'], {
      env: { ...env, KAFKA_SASL_MECHANISM: 'PLAIN', DEBUG: '*', NODE_DEBUG: 'net,tls' },
      timeoutMs: 60_000,
    });
    expect(traced.code).toBe(2);
    expect(traced.stderr.split('\n').length).toBeGreaterThan(20);
    expect(traced.stdout + traced.stderr).not.toContain(password);
  });

  it('a malformed --brokers is a usage error naming the flag', async () => {
    const r = await tickflow(['produce', '--brokers', 'nonsense']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tickflow: --brokers: "nonsense" is not host:port.* \[bad_flag\]$/m);
  });
});
