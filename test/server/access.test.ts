import { networkInterfaces } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freePort } from '../support/ports.ts';

/**
 * Who can read the dashboard, through the real `tickflow serve`: loopback only by default; off
 * loopback only with a token, which then guards every path but /healthz and never appears in
 * what the server prints or answers.
 */
const TOKEN = 'Tok3n-n0t-f0r-l0gs-5f2a9c';
const running: TickflowProcess[] = [];

/** An address of this machine that is not loopback (the test needs one to knock from outside). */
function outsideAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  try {
    return (await fetch(url, { ...init, redirect: 'manual' })).status;
  } catch (e) {
    return -((e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? 1 : 2);
  }
}

afterAll(async () => {
  for (const p of running) await p.stop();
});

const outside = outsideAddress();

describe('dashboard access', () => {
  it("binds to loopback by default: reachable on 127.0.0.1, refused on the machine's other address", async () => {
    // An explicit port, since where it listens is what is checked.
    const port = await freePort();
    const serve = new TickflowProcess(['serve', '--db', 'memory', '--port', String(port)]);
    running.push(serve);
    const base = await serve.dashboardUrl();
    expect(base).toBe(`http://127.0.0.1:${port}`);
    expect(await status(`${base}/api/stats`)).toBe(200);
    // Oversized requests are cut off by the HTTP layer and leave the server serving.
    expect(await status(`${base}/api/trades?ticker=${'A'.repeat(100_000)}`)).toBe(431);
    expect(await status(`${base}/api/stats`, { headers: { 'x-filler': 'x'.repeat(100_000) } })).toBe(431);
    expect(await status(`${base}/api/stats`, { method: 'POST', body: Buffer.alloc(20 * 1024 * 1024) })).toBe(404);
    expect(await status(`${base}/api/stats`)).toBe(200);
    expect(outside, 'a non-loopback IPv4 address on this machine').not.toBeNull();
    expect(await status(`http://${outside}:${port}/api/stats`)).toBe(-1); // connection refused
    expect((await serve.stop()).code).toBe(0);
  });

  for (const via of ['--token', 'TICKFLOW_TOKEN'] as const) {
    it(`off loopback with ${via}: 401 without the token or with a wrong one, 200 with it; /healthz open; the token never printed or echoed`, async () => {
      const args = ['serve', '--db', 'memory', '--host', '0.0.0.0', '--port', '0'];
      const serve = via === '--token' ? new TickflowProcess([...args, '--token', TOKEN]) : new TickflowProcess(args, { env: { TICKFLOW_TOKEN: TOKEN } });
      running.push(serve);
      const base = `http://${outside}:${new URL(await serve.dashboardUrl()).port}`;
      const answers: string[] = [];
      for (const path of ['/', '/api/stats', '/api/alerts', '/api/stream', '/metrics', '/assets/app.js']) {
        for (const init of [{}, { headers: { authorization: `Bearer ${TOKEN}x` } }, { headers: { cookie: `tickflow_token=${TOKEN.slice(1)}` } }]) {
          const r = await fetch(`${base}${path}`, init);
          answers.push(await r.text());
          expect(r.status, `${path} ${JSON.stringify(init)}`).toBe(401);
        }
        expect(await status(`${base}${path}?token=wrong-${TOKEN}`)).toBe(401);
      }
      expect(await status(`${base}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).toBe(200);
      expect(await status(`${base}/api/stats?token=${TOKEN}`)).toBe(200);
      // The one-time link trades the token for an HttpOnly cookie and drops it from the address.
      const link = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' });
      expect(link.status).toBe(303);
      expect(link.headers.get('location')).toBe('/');
      expect(link.headers.get('set-cookie')).toMatch(/^tickflow_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
      expect(await status(`${base}/api/stats`, { headers: { cookie: `tickflow_token=${TOKEN}` } })).toBe(200);
      expect(await status(`${base}/healthz`)).toBe(200);
      expect((await serve.stop()).code).toBe(0);
      expect(serve.stdout + serve.stderr).not.toContain(TOKEN);
      for (const a of answers) expect(a).not.toContain(TOKEN.slice(1));
    });
  }

  it.each([
    [['--host', '0.0.0.0'], '--host 0.0.0.0 is reachable from other machines: give --token'],
    [['--host', '0.0.0.0', '--token', 'short-Secret'], '--token: must be at least 16 characters'],
    [['--token', 'Secret with spaces and ; in it'], '--token: may contain only'],
  ])('refuses %j in one line, exit 2, without echoing the token', async (flags, mentions) => {
    const r = await tickflow(['serve', '--db', 'memory', '--port', '0', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.startsWith(`tickflow: ${mentions}`)).toBe(true);
    const token = flags[flags.indexOf('--token') + 1];
    if (flags.includes('--token')) expect(r.stderr).not.toContain(token);
  });
});
