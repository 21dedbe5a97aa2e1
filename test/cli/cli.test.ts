import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { tickflow } from '../support/cli.ts';
import { serverUrl } from '../support/postgres.ts';
import { freePort } from '../support/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-cli-'));

/**
 * A usage error is one line on stderr naming the problem, no stack trace, exit code 2.
 * The cases that only start a process and read its error run concurrently: each is mostly Node
 * starting up.
 */
function expectUsageError(r: { code: number | null; stderr: string }, mentions: string) {
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(mentions);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** The threshold of the rule named "large" in `tickflow spec`'s output (what --threshold sets). */
const largeThreshold = (spec: { rules: Array<{ name: string; threshold?: number }> }): number | undefined =>
  spec.rules.find((r) => r.name === 'large')?.threshold;

describe('tickflow CLI', () => {
  it('explains itself with --help', async () => {
    const r = await tickflow(['run', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--source', '--db', '--threshold', '--rate', '--duration', '--no-dashboard', '--json']) expect(r.stdout).toContain(flag);
    const top = await tickflow(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['run', 'query', 'simulate', 'spec', 'stack']) expect(top.stdout).toContain(cmd);
  });

  it.each([
    [['run', '--bogus'], "unknown option '--bogus'"],
    [['run', '--rate', 'fast'], '--rate'],
    [['run', '--threshold', '-5'], '--threshold'],
    [['run', '--count', '1.5'], '--count'],
    [['run', '--tickers', 'aapl,<b>'], '--tickers'],
    [['run', '--source', 'ftp://x'], '--source'],
    [['run', '--source', 'file:'], '--source'],
    [['run', '--db', 'mysql://x'], '--db'],
    [['run', '--spike-factor', '0.5'], '--spike-factor'],
    [['query', 'everything'], 'everything'],
    [['query', 'trades', '--limit', '0'], '--limit'],
  ])('refuses %j with a clear line and exit code 2', async (args, mentions) => {
    expectUsageError(await tickflow(args as string[]), mentions as string);
  });

  it.concurrent.each(
    [
      ['run'],
      ['query', 'trades'],
      ['simulate'],
      ['spec'],
      ['serve'],
      ['produce'],
      ['topics', 'list'],
      ['topics', 'create'],
      ['topics', 'describe'],
      ['alerts', 'tail'],
      ['alerts', 'forward'],
      ['flink', 'sql'],
      ['flink', 'deploy'],
      ['flink', 'status'],
      ['flink', 'cancel'],
      ['stack', 'status'],
      ['stack', 'up'],
    ].map((cmd) => [cmd.join(' '), cmd] as const),
  )('%s: an unknown flag is one line naming it, exit 2, nothing started', async (_, cmd) => {
    // Seventeen CLIs start at once: on a busy 2-core machine each start can take tens of seconds.
    const r = await tickflow([...cmd, '--bogus-flag'], { timeoutMs: 110_000 });
    expectUsageError(r, "unknown option '--bogus-flag'");
    // The line, and at most commander's pointer to --help.
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toContain('--bogus-flag');
    expect(lines.slice(1)).toEqual(lines.length > 1 ? ['(run with --help for usage)'] : []);
    expect(r.stdout).toBe('');
  });

  describe.each([
    ['run', ['run', '--no-dashboard', '--count', '1']],
    ['query', ['query', 'trades']],
    ['serve', ['serve', '--port', '0']],
  ] as const)('%s: a bad or unreachable --db', (_, cmd) => {
    it.concurrent.each([
      ['postgres://x:y@[bad', '--db: "(unparseable database URL)" is not a valid PostgreSQL URL'],
      ['postgres://postgres@127.0.0.1:99999/x', 'is not a valid PostgreSQL URL'],
      ['mysql://db.example/x', '--db: "mysql://db.example/x" is not a database'],
      ['pglite:', '--db: pglite: needs a directory'],
      ['postgres://postgres@127.0.0.1:1/x', 'cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/x: connection refused'],
      ['postgres://postgres@no-such-host.invalid:5432/x', 'cannot reach PostgreSQL at postgres://postgres@no-such-host.invalid:5432/x: host not found'],
      ['postgres://tickflow_no_such_role@127.0.0.1:5432/x', 'refused the credentials: role "tickflow_no_such_role" does not exist'],
    ])('--db %s → one line, exit 2', async (db, mentions) => {
      const r = await tickflow([...cmd, '--db', db], { timeoutMs: 60_000 });
      expectUsageError(r, mentions);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  });

  it.concurrent.each([
    [['run', '--source', 'kafka', '--db', 'memory', '--no-dashboard']],
    [['produce', '--count', '1']],
    [['topics', 'list']],
    [['topics', 'create']],
    [['alerts', 'tail']],
    [['alerts', 'forward', '--to', 'webhook:http://127.0.0.1:9/hook']],
    [['serve', '--db', 'memory', '--port', '0']],
  ])('%j: a malformed --brokers is one line naming it, exit 2, at once', async (args) => {
    for (const [brokers, mentions] of [
      ['host:notaport', '"host:notaport" is not host:port'],
      ['127.0.0.1:70000', '"127.0.0.1:70000" is not host:port'],
      [',,', '",," names no broker'],
    ] as const) {
      const r = await tickflow([...args, '--brokers', brokers], { timeoutMs: 30_000 });
      expectUsageError(r, mentions);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it.concurrent.each([
    [['flink', 'deploy'], '--gateway', 'the Flink SQL Gateway'],
    [['flink', 'status'], '--flink-url', 'the Flink REST API'],
    [['flink', 'cancel'], '--flink-url', 'the Flink REST API'],
  ])('%j: a malformed or unreachable %s is one line, exit 2', async (args, flag, what) => {
    const port = await freePort();
    // deploy migrates the job's database (creating it if need be) only once the gateway has
    // answered: an unreachable gateway leaves it alone, and the error stays the only line.
    const jobDb = `tickflow_untouched_${port}_${Date.now().toString(36)}`;
    const jobDbUrl = new URL(serverUrl());
    jobDbUrl.pathname = `/${jobDb}`;
    const command = args[1] === 'deploy' ? [...args, '--db', jobDbUrl.toString()] : args;
    for (const [url, mentions] of [
      ['not a url', `${flag}: "not a url" is not an http:// URL [bad_flag]`],
      ['ftp://flink.example', `${flag}: "ftp://flink.example" is not an http:// URL [bad_flag]`],
      ['http://no-such-host.invalid:8081', 'host not found'],
      [`http://127.0.0.1:${port}`, `cannot reach ${what} at http://127.0.0.1:${port}`],
      [`http://127.0.0.1:${port}`, '[flink_unreachable]'],
    ] as const) {
      const r = await tickflow([...command, flag, url, '--timeout', '5'], { timeoutMs: 60_000 });
      expectUsageError(r, mentions);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const admin = postgres(serverUrl(), { max: 1, onnotice: () => {} });
    try {
      expect(await admin`SELECT datname FROM pg_database WHERE datname = ${jobDb}`).toHaveLength(0);
    } finally {
      await admin.end();
    }
  });

  it.each([
    ['/nonexistent/trades.jsonl', '--from: cannot read /nonexistent/trades.jsonl: no such file'],
    [tmpdir(), `--from: cannot read ${tmpdir()} is a directory`],
  ])('produce --from file:%s → one line, exit 2, before any broker is contacted', async (path, mentions) => {
    const r = await tickflow(['produce', '--from', `file:${path}`, '--brokers', '127.0.0.1:9']);
    expectUsageError(r, mentions);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    ['/nonexistent/trades.jsonl', '--source: cannot read /nonexistent/trades.jsonl: no such file'],
    [tmpdir(), `--source: cannot read ${tmpdir()} is a directory`],
  ])('run --source file:%s → one line, exit 2, before the database is opened', async (path, mentions) => {
    const r = await tickflow(['run', '--source', `file:${path}`, '--db', 'postgres://postgres@127.0.0.1:1/x', '--no-dashboard']);
    expectUsageError(r, mentions);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the bad key of a config file', async () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ db: 'memory', spec: { rules: { largeTrade: { threshold: 'big' } } } }));
    expectUsageError(await tickflow(['spec', '--config', cfg]), 'rules[0] "large": threshold');
    writeFileSync(cfg, JSON.stringify({ dbb: 'memory' }));
    expectUsageError(await tickflow(['run', '--config', cfg]), 'dbb');
  });

  it('reports an unreachable PostgreSQL in one line', async () => {
    const r = await tickflow(['run', '--db', 'postgres://postgres@127.0.0.1:1/x', '--count', '1']);
    expectUsageError(r, 'cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/x');
  });

  it('never prints a database password', async () => {
    const r = await tickflow(['run', '--db', 'postgres://postgres:s3cret-pw@127.0.0.1:1/x', '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
  });

  it('prints the effective spec with precedence flag > env > config file', async () => {
    const cfg = join(dir, 'ok.json');
    writeFileSync(cfg, JSON.stringify({ spec: { rules: { largeTrade: { threshold: 10 } }, candles: { intervalMs: 30_000 } } }));
    const fromFile = JSON.parse((await tickflow(['spec', '--config', cfg])).stdout);
    expect(largeThreshold(fromFile)).toBe(10);
    expect(fromFile.candles.intervalMs).toBe(30_000);
    const fromEnv = JSON.parse((await tickflow(['spec', '--config', cfg], { env: { TICKFLOW_THRESHOLD: '20' } })).stdout);
    expect(largeThreshold(fromEnv)).toBe(20);
    const fromFlag = JSON.parse((await tickflow(['spec', '--config', cfg, '--threshold', '30'], { env: { TICKFLOW_THRESHOLD: '20' } })).stdout);
    expect(largeThreshold(fromFlag)).toBe(30);
    const defaults = JSON.parse((await tickflow(['spec'])).stdout);
    expect(largeThreshold(defaults)).toBe(1_000_000);
    expect(defaults.input.topic).toBe('trades');
  });

  it('simulates reproducibly: same seed, same trades', async () => {
    const args = ['simulate', '--count', '50', '--seed', '9', '--start-time', '2026-11-25T10:00:00Z'];
    const a = await tickflow(args);
    const b = await tickflow(args);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.trim().split('\n')).toHaveLength(50);
    const c = await tickflow(['simulate', '--count', '50', '--seed', '10', '--start-time', '2026-11-25T10:00:00Z']);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('runs the simulator for a count and shows the rows with query', async () => {
    const db = `pglite:${join(dir, 'sim')}`;
    const r = await tickflow(['run', '--db', db, '--rate', 'max', '--count', '20000', '--seed', '3', '--json', '--no-dashboard']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ read: 20_000, stored: 20_000, duplicates: 0, dead_letters: 0, late: 0 });
    expect(s.candles).toBeGreaterThan(0);
    expect(s.alerts).toBeGreaterThan(0);
    const q = await tickflow(['query', 'trades', '--db', db, '--limit', '3', '--json']);
    expect(q.code).toBe(0);
    const rows = q.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0])).toEqual(['trade_id', 'ticker', 'price', 'volume', 'trade_timestamp']);
    const table = await tickflow(['query', 'candles', '--db', db, '--limit', '2']);
    expect(table.stdout).toMatch(/ticker\s+window_start\s+open/);
  });

  it('ends a short full-speed run with its dashboard cleanly: exit 0, its summary, nothing about the watchlist', async () => {
    // The run ends before the dashboard's first watchlist read: closing waits for it, and the
    // embedded database's thread keeps the process alive until it has exited.
    for (let round = 0; round < 2; round++) {
      const r = await tickflow(['run', '--db', 'memory', '--rate', 'max', '--count', '200', '--port', '0']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^read\s+200$/m);
      expect(r.stderr).not.toContain('watchlist');
    }
  });

  it('summarises a paced run stopped by --duration, never reading faster than --rate', async () => {
    const r = await tickflow(['run', '--db', 'memory', '--rate', '500', '--duration', '2', '--json', '--no-dashboard']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.read).toBeGreaterThan(0);
    // 500/s for 2 s: a slow machine reads fewer (how close it comes is a benchmark's figure),
    // an unpaced run thousands more.
    expect(s.read).toBeLessThanOrEqual(1_000);
  });
});
