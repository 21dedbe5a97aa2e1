import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOptions, kafkaSettings } from '../../src/kafka/config.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freshDatabase, serverUrl } from '../support/postgres.ts';

/**
 * Credentials come from flags, the environment or a config file, and never come back out:
 * every command below runs with a password in its database URL (or Kafka SASL settings), in
 * runs that work and runs that fail, and neither its output nor any file it leaves behind
 * holds the password — in plain or in URL-encoded form. TICKFLOW_DEBUG=1 (stack traces on
 * unexpected errors) is on throughout, so a leak through an error's details shows too.
 */
const PASSWORD = 'Pw-d0nt-l34k-xyzzy';
const ROLE = 'tickflow_pw_role';
// A password that needs escaping in a URL: neither its raw nor its escaped form may appear.
const ODD_PASSWORD = 'p@ss:w/rd#Leak9';
let pg: { url: string; drop: () => Promise<void> };
let withPassword: string;

interface Run {
  code: number | null;
  out: string;
  cwd: string;
}

/** A command in its own empty working directory, so whatever files it writes can be searched too. */
async function run(args: string[], o: { env?: NodeJS.ProcessEnv; untilServing?: boolean; timeoutMs?: number } = {}): Promise<Run> {
  const cwd = mkdtempSync(join(tmpdir(), 'tickflow-cred-'));
  const env = { TICKFLOW_DEBUG: '1', ...o.env };
  if (!o.untilServing) {
    const r = await tickflow(args, { cwd, env, timeoutMs: o.timeoutMs ?? 60_000 });
    return { code: r.code, out: r.stdout + r.stderr, cwd };
  }
  // A long-running command is stopped once it has said what it says at start.
  const p = new TickflowProcess(args, { cwd, env });
  await p.dashboardUrl(o.timeoutMs ?? 60_000);
  const r = await p.stop();
  return { code: r.code, out: r.stdout + r.stderr, cwd };
}

/** Every file under dir, as text (the embedded database's files included). */
function filesUnder(dir: string): { path: string; text: string }[] {
  const found: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) found.push(...filesUnder(p));
    else found.push({ path: p, text: readFileSync(p).toString('latin1') });
  }
  return found;
}

function expectNoLeak(r: Run, secrets: string[] = [PASSWORD]): void {
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      expect(r.out, 'output').not.toContain(form);
      for (const f of filesUnder(r.cwd)) expect(f.text, f.path).not.toContain(form);
    }
  }
}

beforeAll(async () => {
  pg = await freshDatabase();
  const admin = postgres(serverUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP ROLE IF EXISTS ${ROLE}`);
  // Trust authentication on this server ignores the password: it is still sent, and still must not leak.
  await admin.unsafe(`CREATE ROLE ${ROLE} LOGIN SUPERUSER PASSWORD '${PASSWORD}'`);
  await admin.end();
  const u = new URL(pg.url);
  u.username = ROLE;
  u.password = PASSWORD;
  withPassword = u.toString();
});

afterAll(async () => {
  await pg?.drop();
  const admin = postgres(serverUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin.end();
});

describe('a database password is never printed or written', () => {
  it('run (with its dashboard), query and serve that work: password in --db', async () => {
    const ran = await run(['run', '--db', withPassword, '--rate', 'max', '--count', '2000', '--port', '0', '--json']);
    expect(ran.code, ran.out).toBe(0);
    expectNoLeak(ran);
    const queried = await run(['query', 'alerts', '--db', withPassword, '--limit', '3']);
    expect(queried.code, queried.out).toBe(0);
    expectNoLeak(queried);
    const served = await run(['serve', '--db', withPassword, '--port', '0'], { untilServing: true });
    expect(served.out).toMatch(/dashboard on http:\/\/127\.0\.0\.1:\d+\/ over postgres:\/\/tickflow_pw_role:\*\*\*@/);
    expect(served.code, served.out).toBe(0);
    expectNoLeak(served);
  });

  it('the same from DATABASE_URL and from a config file', async () => {
    const fromEnv = await run(['query', 'trades', '--limit', '1'], { env: { DATABASE_URL: withPassword } });
    expect(fromEnv.code, fromEnv.out).toBe(0);
    expectNoLeak(fromEnv);
    const cfg = join(mkdtempSync(join(tmpdir(), 'tickflow-cfg-')), 'tickflow.config.json');
    writeFileSync(cfg, JSON.stringify({ db: withPassword }));
    for (const args of [
      ['query', 'trades', '--limit', '1', '--config', cfg],
      ['run', '--config', cfg, '--rate', 'max', '--count', '100', '--no-dashboard'],
    ]) {
      const r = await run(args);
      expect(r.code, r.out).toBe(0);
      expectNoLeak(r);
    }
  });

  it.each([
    ['an unreachable host', (pw: string) => `postgres://${ROLE}:${encodeURIComponent(pw)}@127.0.0.1:1/x`, 'cannot reach PostgreSQL'],
    ['a host that does not resolve', (pw: string) => `postgres://${ROLE}:${encodeURIComponent(pw)}@no-such-host.invalid:5432/x`, 'host not found'],
    ['a role the server refuses', (pw: string) => `postgres://tickflow_nobody:${encodeURIComponent(pw)}@127.0.0.1:5432/x`, 'refused the credentials'],
    ['an unparseable URL', (pw: string) => `postgres://${ROLE}:${pw}@[broken/x`, 'not a valid PostgreSQL URL'],
  ])('failing runs: %s → exit 2, the password in neither form', async (_, url, mentions) => {
    // Six short-lived processes that only fail: run side by side.
    const cases = [PASSWORD, ODD_PASSWORD].flatMap((pw) =>
      (
        [
          [['run', '--db', url(pw), '--count', '1', '--no-dashboard'], {}],
          [['query', 'trades', '--db', url(pw)], {}],
          [['serve', '--port', '0'], { DATABASE_URL: url(pw) }],
        ] as const
      ).map(([args, env]) => ({ pw, args: [...args], env })),
    );
    const results = await Promise.all(cases.map((c) => run(c.args, { env: c.env })));
    results.forEach((r, i) => {
      expect(r.code, r.out).toBe(2);
      expect(r.out).toContain(mentions);
      expectNoLeak(r, [cases[i]!.pw]);
    });
  });
});

describe('Kafka SASL and TLS settings', () => {
  const env = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'alice', KAFKA_SASL_PASSWORD: PASSWORD, KAFKA_SSL: '1' };

  it('reach the client options of every client', () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'tickflow-ca-')), 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const r = kafkaSettings({ brokers: 'k1.example:9093,k2.example:9093' }, { ...env, KAFKA_SSL_CA: ca, KAFKA_SSL_INSECURE: 'false' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    for (const role of ['producer', 'consumer', 'admin']) {
      const o = clientOptions(r.settings, role);
      expect(o.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'alice', password: PASSWORD });
      expect(o.tls).toEqual({ rejectUnauthorized: true, ca: readFileSync(ca, 'utf8') });
      expect(o.bootstrapBrokers).toEqual(['k1.example:9093', 'k2.example:9093']);
    }
    const insecure = kafkaSettings({}, { ...env, KAFKA_SSL_INSECURE: 'yes' });
    expect(insecure.ok && clientOptions(insecure.settings, 'x').tls).toEqual({ rejectUnauthorized: false });
    const plain = kafkaSettings({}, {});
    expect(plain.ok && [clientOptions(plain.settings, 'x').sasl, clientOptions(plain.settings, 'x').tls]).toEqual([undefined, undefined]);
  });

  it.each([
    [{ KAFKA_SASL_MECHANISM: 'GSSAPI', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD: PASSWORD }, 'KAFKA_SASL_MECHANISM: "GSSAPI" is not one of'],
    [{ KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'a' }, 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are needed'],
    [{ KAFKA_SSL_CA: '/nonexistent/ca.pem' }, 'KAFKA_SSL_CA: cannot read'],
  ])('a bad setting is one line naming it, exit 2, without the password: %j', async (bad, mentions) => {
    const r = await run(['topics', 'list', '--brokers', '127.0.0.1:9'], { env: bad });
    expect(r.code).toBe(2);
    expect(r.out.trim().split('\n')).toEqual([expect.stringContaining(mentions)]);
    expectNoLeak(r);
  });

  it('TLS is really spoken when asked (a TLS ClientHello reaches the broker port), and a failed handshake leaks nothing', async () => {
    const firstBytes: Buffer[] = [];
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      s.once('data', (d: Buffer) => {
        firstBytes.push(d);
        s.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await run(['topics', 'list', '--brokers', `127.0.0.1:${port}`, '--connect-timeout', '3'], { env, timeoutMs: 30_000 });
      expect(r.code).toBe(2);
      expect(r.out).toContain(`cannot reach Kafka at 127.0.0.1:${port}`);
      expectNoLeak(r);
      // 0x16 0x03: a TLS handshake record — not a plaintext Kafka request.
      expect(firstBytes.length).toBeGreaterThan(0);
      expect([firstBytes[0]![0], firstBytes[0]![1]]).toEqual([0x16, 0x03]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
