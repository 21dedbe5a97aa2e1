/**
 * Fault 1: PostgreSQL goes away mid-stream and comes back. The server is the test's own
 * (test/support/private-postgres.ts), stopped the way `pg_ctlcluster … stop` stops one, so the
 * machine's shared cluster stays up for everything else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { readTables } from '../kafka/kafka-support.ts';
import { oracle } from '../support/oracle.ts';
import { PrivatePostgres } from '../support/private-postgres.ts';
import { bySize } from '../support/soak.ts';
import { feedLines, freePort, metric, startTickflow, waitFor, watchRss } from './fault-support.ts';

const RATE = 2_000;
const OUTAGE_MS = bySize(8_000, 20_000);
const COUNT = RATE * bySize(16, 40);
/** Resident-memory bound for a run whose database is away (stated in the README's Guarantees). */
const RSS_BOUND_MB = 400;

let pg: PrivatePostgres;

beforeAll(async () => {
  pg = await PrivatePostgres.start();
});
afterAll(async () => {
  await pg?.destroy();
});

describe('PostgreSQL stopped mid-stream, then started again', () => {
  it('the run waits it out: nothing lost, nothing twice, the outage visible in logs and /metrics', async () => {
    const lines = [...dirtyFeed({ seed: 4242, count: COUNT, startMs: Date.now() - 3 * 3600_000, stepMs: 97, largeFraction: 0.02 })].map((l) => Buffer.from(l));
    const expected = oracle(lines, 'stdin', defaultSpec());
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const run = startTickflow(['run', '--source', 'file:-', '--db', pg.url, '--port', String(port), '--json'], { stdin: true });
    const rss = watchRss(run.child.pid!);
    let sent = 0;
    const feeding = feedLines(run.child, lines, RATE, (n) => (sent = n));

    await waitFor('a third of the stream to be sent', () => sent >= COUNT / 3);
    await waitFor('the dashboard', async () => (await metric(base, 'tickflow_events_stored_total').catch(() => null)) !== null);
    await pg.stopServer('fast');
    const stoppedAt = Date.now();
    // While the database is away the process keeps running and says so.
    await waitFor('the outage on /metrics', async () => ((await metric(base, 'tickflow_sink_unavailable_seconds')) ?? 0) > 0, 30_000);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    expect(run.child.exitCode).toBeNull();
    expect(run.stderr()).toMatch(/database unavailable \(.+\); retry \d+ in \d+ ms/);
    await pg.startServer();

    await feeding;
    const r = await run.done;
    const peak = rss.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/database available again after \d+\.\d s/);
    const summary = JSON.parse(r.stdout);
    expect(summary.db_retries).toBeGreaterThan(0);
    expect(summary.read).toBe(expected.read);

    const actual = await readTables(pg.url);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.alerts).toEqual(expected.alerts);
    expect(actual.candles).toEqual(expected.candles);
    expect(actual.deadLetters).toEqual(expected.deadLetters);
    // Backpressure, not buffering: while writes fail the reader stops reading.
    expect(peak).toBeLessThan(RSS_BOUND_MB);
    console.log(`postgres outage ${OUTAGE_MS / 1000} s: ${summary.db_retries} retries, peak RSS ${peak} MB, ${COUNT} lines`);
  });

  it('serve stays up: 503 with Retry-After while the database is away, answers again after', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const serve = startTickflow(['serve', '--db', pg.url, '--port', String(port)]);
    try {
      await waitFor('serve to answer', async () => (await fetch(`${base}/api/tickers`).catch(() => null))?.status === 200, 60_000, serve.stderr);
      await pg.stopServer('fast');
      const away = await fetch(`${base}/api/tickers`);
      expect(away.status).toBe(503);
      expect(away.headers.get('retry-after')).toBe('5');
      expect(((await away.json()) as { error: string }).error).toMatch(/^database unavailable: /);
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      await pg.startServer();
      await waitFor('serve to answer again', async () => (await fetch(`${base}/api/tickers`)).status === 200, 60_000, serve.stderr);
      expect(serve.child.exitCode).toBeNull();
    } finally {
      serve.child.kill('SIGINT');
      await serve.done;
    }
  });
});
