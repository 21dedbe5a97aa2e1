/**
 * Fault 1: PostgreSQL goes away mid-stream and comes back. The server is the test's own
 * (test/support/private-postgres.ts), stopped the way `pg_ctlcluster … stop` stops one, so the
 * machine's shared cluster stays up for everything else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { TickflowProcess } from '../support/cli.ts';
import { oracle } from '../support/oracle.ts';
import { freePort } from '../support/ports.ts';
import { readTables } from '../support/postgres.ts';
import { PrivatePostgres } from '../support/private-postgres.ts';
import { bySize } from '../support/soak.ts';
import { waitFor } from '../support/wait.ts';
import { feedLines, metric, watchRss } from './fault-support.ts';

const RATE = 2_000;
const OUTAGE_MS = bySize(8_000, 20_000);
const COUNT = RATE * bySize(16, 40);
const BATCH = 1_000;

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
    // --json prints no dashboard address, so the port is picked here.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const run = new TickflowProcess(['run', '--source', 'file:-', '--db', pg.url, '--port', String(port), '--json', '--batch-size', String(BATCH)]);
    const rss = watchRss(run.child.pid!);
    let sent = 0;
    const feeding = feedLines(run.child, lines, RATE, (n) => (sent = n));

    await waitFor(() => sent >= COUNT / 3, { what: 'a third of the stream to be sent', context: () => run.stderr });
    await waitFor(async () => (await metric(base, 'tickflow_events_stored_total').catch(() => null)) !== null, {
      what: 'the dashboard',
      context: () => run.stderr,
    });
    await pg.stopServer('fast');
    const stoppedAt = Date.now();
    // While the database is away the process keeps running and says so.
    const unavailableSeconds = () =>
      metric(base, 'tickflow_sink_unavailable_seconds').catch((e: unknown) => {
        // The dashboard gone means the process is: say why.
        if (!run.running) throw new Error(`tickflow exited during the outage:\n${run.stderr}`);
        throw e;
      });
    await waitFor(async () => ((await unavailableSeconds()) ?? 0) > 0, { what: 'the outage on /metrics', timeoutMs: 30_000, context: () => run.stderr });
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));
    // Backpressure, not buffering: while writes fail the reader stops, though the feeder offers
    // 2,000 lines a second. What waits is at most three batches (two in flight, one filling),
    // each over its size by at most one pipe chunk (64 KiB: under 1,000 lines).
    expect(await metric(base, 'tickflow_sink_lag_records')).toBeLessThanOrEqual(3 * (BATCH + 1_000));
    expect(run.running).toBe(true);
    expect(run.stderr).toMatch(/database unavailable \(.+\); retry \d+ in \d+ ms/);
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
    console.log(`postgres outage ${OUTAGE_MS / 1000} s: ${summary.db_retries} retries, peak RSS ${peak} MB`);
  });

  it('serve stays up: 503 with Retry-After while the database is away, answers again after', async () => {
    const serve = new TickflowProcess(['serve', '--db', pg.url, '--port', '0']);
    try {
      const base = await serve.dashboardUrl();
      expect((await fetch(`${base}/api/tickers`)).status).toBe(200);
      await pg.stopServer('fast');
      const away = await fetch(`${base}/api/tickers`);
      expect(away.status).toBe(503);
      expect(away.headers.get('retry-after')).toBe('5');
      expect(((await away.json()) as { error: string }).error).toMatch(/^database unavailable: /);
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      await pg.startServer();
      await waitFor(async () => (await fetch(`${base}/api/tickers`)).status === 200, { what: 'serve to answer again', context: () => serve.stderr });
      expect(serve.running).toBe(true);
    } finally {
      await serve.stop();
    }
  });
});
