/**
 * `tickflow run --forward`: an embedded run sends the alerts it stores to a real HTTP endpoint
 * started here, without Kafka — each once, from a file run; through a 20 s outage of the
 * endpoint that never holds the pipeline up (PostgreSQL, more alerts than the forwarder keeps in
 * memory); across a kill -9 in the middle of a delivery (PGlite: the database keeps what is
 * still to send, and what the endpoint took is not sent again); and over the rate limit, one
 * summary. The tests run concurrently: the outage is a timer, and the others need not wait for it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { Endpoint } from '../support/alert-endpoint.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';
import { metric } from '../faults/fault-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-run-forward-'));
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function endpoint(): Promise<Endpoint> {
  const e = await new Endpoint().start();
  cleanups.push(() => e.stop());
  return e;
}

function started(args: string[]): TickflowProcess {
  const p = new TickflowProcess(args);
  cleanups.push(() => p.stop('SIGKILL'));
  return p;
}

const TICKERS = ['AAPL', 'MSFT', 'NVDA'];
let clock = Date.parse('2026-11-25T14:00:00Z');

/**
 * Trades as JSON lines, every `largeEvery`-th one over the large-trade threshold (an alert).
 * Fewer than the spike rule's 50 per ticker in a batch, and event times always forward.
 */
function trades(prefix: string, n: number, largeEvery: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    clock += 10;
    const volume = i % largeEvery === 0 ? 2_500_000 : 100 + i;
    return JSON.stringify({ trade_id: `${prefix}-${i}`, ticker: TICKERS[i % 3], price: '187.23', volume, trade_timestamp: new Date(clock).toISOString() });
  });
}

/** The stored alert ids, sorted as sorted() sorts. */
async function storedAlertIds(db: string): Promise<string[]> {
  return (await readTables(db, { ids: 'SELECT alert_id AS row FROM trade_alerts' })).ids;
}

const sorted = (xs: string[]): string[] => [...xs].sort();
const idOf = (body: string): string => String((JSON.parse(body) as { alert_id?: string }).alert_id);

describe.concurrent('tickflow run --forward', () => {
  it('a file run sends each stored alert once (webhook: its JSON; slack: a line each); a rerun sends nothing; only a hash of the URL is stored', async () => {
    const hook = await endpoint();
    const slack = await endpoint();
    const file = join(dir, 'once.jsonl');
    writeFileSync(file, `${trades('once', 60, 4).join('\n')}\n`);
    const db = `pglite:${join(dir, 'once')}`;
    const to = `webhook:${hook.url()}`;
    const args = ['run', '--source', `file:${file}`, '--no-dashboard', '--json', '--max-per-minute', '1000'];
    const [r, s] = await Promise.all([
      tickflow([...args, '--db', db, '--forward', to]),
      tickflow([...args, '--db', 'memory', '--forward', `slack:${slack.url()}`]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    const stored = await storedAlertIds(db);
    expect(stored).toHaveLength(15);
    const summary = JSON.parse(r.stdout);
    expect(summary.forward).toEqual({
      target: expect.stringMatching(/^webhook:http:\/\/127\.0\.0\.1:\d+\/…$/),
      delivered: 15,
      held_back: 0,
      summaries: 0,
      refused: 0,
      retries: 0,
      undelivered: 0,
    });
    // Each alert once, as the JSON an engine publishes (docs/kafka.md#records).
    expect(sorted(hook.requests.map((q) => idOf(q.body)))).toEqual(stored);
    for (const b of hook.delivered()) {
      expect(Object.keys(b).slice(0, 9)).toEqual(['alert_id', 'kind', 'rule', 'severity', 'trade_id', 'ticker', 'price', 'volume', 'trade_timestamp']);
      expect(b).toMatchObject({ kind: 'large_trade', rule: 'large', severity: 'warning', price: '187.2300', volume: 2_500_000, threshold: 1_000_000 });
    }
    const lines = slack.delivered().flatMap((b) => String(b.text).split('\n'));
    expect(lines).toHaveLength(15);
    for (const line of lines)
      expect(line).toMatch(
        /^\[warning\] LARGE (AAPL|MSFT|NVDA) 2,500,000 @ 187\.2300 \(> 1,000,000\) at 2026-11-25T14:\S+: Large trade detected for \w+ \[\S+\]$/,
      );
    expect(sorted(lines.map((l) => /\[(\S+)\]$/.exec(l)![1]!))).toEqual(stored);
    expect(JSON.parse(s.stdout).forward).toMatchObject({ delivered: 15, undelivered: 0 });

    // The same file again: its alerts are stored already and were sent: nothing goes out twice.
    const again = await tickflow([...args, '--db', db, '--forward', to]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).forward).toMatchObject({ delivered: 0, undelivered: 0 });
    expect(hook.requests).toHaveLength(15);

    const store = await openStore(db, { migrate: false });
    try {
      const rows = await store.query<{ destination: string; settled: number; pending: number; text: string }>(
        `SELECT destination, count(settled_at)::int AS settled, count(alert)::int AS pending, string_agg(f::text, ' ') AS text
         FROM tickflow_forwarding f GROUP BY destination`,
      );
      expect(rows).toEqual([{ destination: expect.stringMatching(/^[0-9a-f]{64}$/), settled: 15, pending: 0, text: expect.any(String) }]);
      expect(rows[0]!.text).not.toContain('SECRET');
      expect(rows[0]!.text).not.toContain('127.0.0.1');
    } finally {
      await store.close();
    }
  }, 300_000);

  it('a 20 s outage of the endpoint does not hold the pipeline up: every trade is stored while it is down, every alert arrives once after (PostgreSQL)', async () => {
    const pg = await freshDatabase('tickflow_fwd');
    cleanups.push(() => pg.drop());
    const hook = await endpoint();
    const to = `webhook:${hook.url()}`;
    const run = started(['run', '--source', 'file:-', '--db', pg.url, '--no-dashboard', '--forward', to, '--max-per-minute', '100000']);
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    cleanups.push(() => sql.end());
    const count = async (table: string): Promise<number> => Number((await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`).catch(() => [{ n: 0 }]))[0]!.n);
    const allDelivered = async (): Promise<boolean> => {
      if (!run.running) throw new Error(`the run exited: ${run.stderr}`);
      const ids = (await sql`SELECT alert_id FROM trade_alerts`.catch(() => [])).map((r) => String(r.alert_id));
      const got = new Set(hook.deliveredIds());
      return ids.length > 0 && ids.every((id) => got.has(id));
    };

    run.write(trades('pre', 20, 4));
    await waitFor(allDelivered, { what: 'the first alerts at the endpoint', timeoutMs: 240_000, context: () => run.stderr });

    // One process per target and database: a second run with the same --forward is refused.
    const second = await tickflow(['run', '--source', 'file:-', '--db', pg.url, '--no-dashboard', '--forward', to]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/another tickflow run forwards to webhook:http:\/\/127\.0\.0\.1:\d+\/… from this database; .* \[forward_in_use\]\n$/);
    expect(second.stderr).not.toContain('SECRET');

    // The outage is the fault under test, so its length is a timer: 10 s of 429/503 answers,
    // then 10 s of refused connections. 1,200 alerts arrive during it: more than the forwarder
    // holds in memory (1,000), so the rest wait in the database.
    hook.mode = 'unavailable';
    const outageStarted = Date.now();
    const before = hook.deliveredIds().length;
    run.write(trades('out', 1_200, 1));
    await waitFor(() => hook.requests.some((q) => q.status === 503), { what: 'the forwarder to meet the 503s', context: () => run.stderr });
    await waitFor(async () => (await count('stock_trades')) === 1_220, { what: 'every trade stored while the endpoint is down', context: () => run.stderr });
    expect(await count('trade_alerts')).toBe(1_205);
    expect(hook.mode).toBe('unavailable');
    expect(hook.deliveredIds()).toHaveLength(before);
    await sleep(Math.max(0, outageStarted + 10_000 - Date.now()));
    await hook.stop();
    await sleep(10_000);
    hook.mode = 'ok';
    await hook.start();
    run.write(trades('post', 20, 4));

    await waitFor(allDelivered, {
      what: 'all 1,210 alerts at the endpoint',
      timeoutMs: 120_000,
      context: () => `got ${hook.deliveredIds().length}; ${run.stderr}`,
    });
    run.child.stdin.end();
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const ids = (await sql`SELECT alert_id FROM trade_alerts`).map((x) => String(x.alert_id));
    expect(ids).toHaveLength(1_210);
    expect(sorted(hook.deliveredIds())).toEqual(sorted(ids));
    expect(r.stderr).toMatch(/forward: webhook:http:\/\/127\.0\.0\.1:\d+\/… unavailable \(HTTP 429 Too Many Requests: down for maintenance\); retrying/);
    expect(r.stderr).toMatch(/forward: webhook:http:\/\/127\.0\.0\.1:\d+\/… is back after \d+\.\d s \(\d+ failed attempts\)/);
    expect(r.stdout).toMatch(/^forwarded {4}1,210 to webhook:http:\/\/127\.0\.0\.1:\d+\/…, 0 still to send$/m);
    expect(r.stderr).not.toContain('SECRET');
    expect(await count('tickflow_forwarding WHERE settled_at IS NULL')).toBe(0);
  }, 300_000);

  it('kill -9 in the middle of a delivery, then the run again: every stored alert reaches the endpoint once (PGlite)', async () => {
    const hook = await endpoint();
    const db = `pglite:${join(dir, 'kill')}`;
    const to = `webhook:${hook.url()}`;
    const run = started(['run', '--source', 'file:-', '--db', db, '--port', '0', '--forward', to, '--max-per-minute', '100000']);
    const base = await run.dashboardUrl(240_000);
    run.write(trades('a', 20, 4));
    await waitFor(() => hook.deliveredIds().length >= 5, { what: 'the first 5 alerts delivered', timeoutMs: 240_000, context: () => run.stderr });

    // The endpoint holds the next request unanswered; the other alerts of the batch are stored and wait.
    hook.mode = 'hold';
    run.write(trades('b', 40, 4));
    await waitFor(() => hook.held.length > 0, { what: 'a request held in flight', context: () => run.stderr });
    await waitFor(async () => ((await metric(base, 'tickflow_events_stored_total')) ?? 0) >= 60, { what: 'the second batch stored' });
    const inFlight = idOf(hook.requests.at(-1)!.body);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    for (const q of hook.held.splice(0)) q.destroy();
    hook.mode = 'ok';

    const again = await tickflow(['run', '--source', 'file:-', '--db', db, '--no-dashboard', '--json', '--forward', to, '--max-per-minute', '100000'], {
      input: `${trades('c', 8, 4).join('\n')}\n`,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/forward: 10 alert\(s\) stored by an earlier run and not delivered yet go out first/);
    expect(JSON.parse(again.stdout).forward).toMatchObject({ delivered: 12, undelivered: 0 });
    const stored = await storedAlertIds(db);
    expect(stored).toHaveLength(17);
    // Taken by the endpoint: each alert exactly once.
    expect(sorted(hook.deliveredIds())).toEqual(stored);
    // Every request, answered or not: only the one in flight at the kill came twice.
    const seen = hook.requests.map((q) => idOf(q.body));
    const twice = seen.filter((id, i) => seen.indexOf(id) !== i);
    expect(twice).toEqual([inFlight]);
  }, 300_000);

  it('over --max-per-minute, the rest goes out as one summary that names every held-back alert, and stderr says so', async () => {
    const hook = await endpoint();
    const file = join(dir, 'rate.jsonl');
    writeFileSync(file, `${trades('rate', 12, 1).join('\n')}\n`);
    const r = await tickflow([
      'run',
      '--source',
      `file:${file}`,
      '--db',
      'memory',
      '--no-dashboard',
      '--json',
      '--forward',
      `webhook:${hook.url()}`,
      '--max-per-minute',
      '5',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const individually = hook.deliveredIds();
    expect(individually).toHaveLength(5);
    const summaries = hook.delivered().filter((b) => b.kind === 'summary');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      held_back: 7,
      dropped: 0,
      limit_per_minute: 5,
      counts: [
        { kind: 'large_trade', ticker: 'NVDA', count: 3 },
        { kind: 'large_trade', ticker: 'AAPL', count: 2 },
        { kind: 'large_trade', ticker: 'MSFT', count: 2 },
      ],
    });
    expect(sorted([...individually, ...(summaries[0]!.alert_ids as string[])])).toHaveLength(12);
    expect(new Set([...individually, ...(summaries[0]!.alert_ids as string[])]).size).toBe(12);
    expect(r.stderr).toMatch(/tickflow: forward: 5 alerts sent this minute; holding the rest for one summary at \d\d:\d\d:\d\d UTC\n/);
    expect(r.stderr).toContain(
      'tickflow: forward: 7 alerts held back in the last minute (over 5 a minute): 3 large_trade NVDA, 2 large_trade AAPL, 2 large_trade MSFT — sent as one summary',
    );
    expect(JSON.parse(r.stdout).forward).toMatchObject({ delivered: 5, held_back: 7, summaries: 1, undelivered: 0 });
    expect(hook.requests).toHaveLength(6);
  }, 300_000);

  it('a bad --forward is one line naming the problem, exit 2, the URL never echoed', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--forward', 'pager:https://h/SECRET'], {}, /^tickflow: --forward: value has the unknown kind "pager": use webhook:URL or slack:URL \[bad_flag\]\n$/],
      [['--forward', 'slack:not a url SECRET'], {}, /^tickflow: --forward: value has no valid URL after "slack:" .* \[bad_flag\]\n$/],
      [[], { TICKFLOW_RUN_FORWARD: 'webhook:ftp://h/SECRET' }, /^tickflow: TICKFLOW_RUN_FORWARD: value has the scheme "ftp" .* \[bad_config\]\n$/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => tickflow(['run', '--db', 'memory', '--no-dashboard', '--count', '1', ...args], { env })));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i]![2]);
      expect(r.stderr).not.toContain('SECRET');
    });
  }, 300_000);
});
