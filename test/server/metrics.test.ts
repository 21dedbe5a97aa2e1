import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { PipelineRun, type RunSummary } from '../../src/pipeline/run-pipeline.ts';
import { startDashboard, type Dashboard } from '../../src/server/dashboard-server.ts';
import { PipelineFeed } from '../../src/server/pipeline-feed.ts';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import { FileSource } from '../../src/source/file-source.ts';
import { defaultSpec } from '../../src/spec/spec.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { tickflow } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';
import { parsePrometheus } from './prometheus-text.ts';

/**
 * /metrics of an embedded run: the pipeline, its live feed and the server wired as `tickflow run`
 * wires them, over PostgreSQL; read after the run ends so the counters are final.
 */
let pg: { url: string; drop: () => Promise<void> };
let store: Store;
let feed: PipelineFeed;
let dashboard: Dashboard;
let summary: RunSummary;
let batches: number;
let base: string;

beforeAll(async () => {
  pg = await freshDatabase();
  const file = join(mkdtempSync(join(tmpdir(), 'tickflow-metrics-')), 'trades.jsonl');
  const lines = [...dirtyFeed({ seed: 11, count: 4_000, startMs: Date.UTC(2026, 10, 25, 9, 0, 0), stepMs: 83, late: 0.01, largeFraction: 0.02 })];
  writeFileSync(file, `${lines.join('\n')}\n`);
  store = await openStore(pg.url);
  const engine = new Engine(defaultSpec());
  feed = new PipelineFeed(engine);
  const run = new PipelineRun({ source: new FileSource(file), engine, store, maxBatchTrades: 500, participants: [feed] });
  dashboard = await startDashboard({ db: store, feed, host: '127.0.0.1', port: 0, token: null });
  base = `http://127.0.0.1:${dashboard.port}`;
  summary = await run.run();
  batches = run.totals.batches;
});

afterAll(async () => {
  await dashboard?.close();
  await store?.close();
  await pg?.drop();
});

describe('GET /metrics (embedded run)', () => {
  it('parses as Prometheus text and its counters match the run summary', async () => {
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parsePrometheus(await r.text());
    expect(summary.dead_letters).toBeGreaterThan(0);
    expect(summary.late).toBeGreaterThan(0);
    expect(summary.duplicates).toBeGreaterThan(0);
    expect(m.value('tickflow_events_read_total')).toBe(summary.read);
    expect(m.value('tickflow_events_stored_total')).toBe(summary.stored);
    expect(m.value('tickflow_events_duplicate_total')).toBe(summary.duplicates);
    expect(m.value('tickflow_events_rejected_total')).toBe(summary.dead_letters);
    expect(m.value('tickflow_events_late_total')).toBe(summary.late);
    expect(m.value('tickflow_candles_total')).toBe(summary.candles);
    expect(m.value('tickflow_alerts_total', { kind: 'large_trade' }) + m.value('tickflow_alerts_total', { kind: 'volume_spike' })).toBe(summary.alerts);
    const byReason = m.samples.filter((s) => s.name === 'tickflow_events_rejected_by_reason_total').reduce((a, s) => a + s.value, 0);
    expect(byReason).toBe(summary.dead_letters);
    expect(m.value('tickflow_sink_batch_seconds_count')).toBe(batches);
    expect(batches).toBeGreaterThan(1);
    expect(m.value('tickflow_sink_lag_records')).toBe(0);
    expect(m.value('tickflow_pipeline_up')).toBe(0); // the input ended
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    // The database agrees too.
    const [row] = await store.query<{ n: string }>(`SELECT count(*)::text AS n FROM stock_trades`);
    expect(Number(row!.n)).toBe(summary.stored);
  });

  it('/api/stats carries the same figures, and /healthz says the pipeline stopped', async () => {
    const s = await (await fetch(`${base}/api/stats`)).json();
    expect(s).toMatchObject({
      source: 'embedded',
      pipeline: 'finished',
      read: summary.read,
      stored: summary.stored,
      duplicates: summary.duplicates,
      dead_letters: summary.dead_letters,
      late: summary.late,
      alerts: summary.alerts,
      candles: summary.candles,
      sink_lag_records: 0,
    });
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(503);
    expect(await h.json()).toEqual({ status: 'unavailable', database: 'ok', pipeline: 'stopped' });
  });
});

describe('access', () => {
  it('refuses to listen off loopback without a token, and refuses weak tokens', async () => {
    const o = { db: store, feed, port: 0 };
    await expect(startDashboard({ ...o, host: '0.0.0.0', token: null })).rejects.toMatchObject({ code: 'bad_config' });
    await expect(startDashboard({ ...o, host: '0.0.0.0', token: null })).rejects.toThrow(/--token/);
    await expect(startDashboard({ ...o, host: '127.0.0.1', token: 'short' })).rejects.toThrow(/--token: must be at least 16/);
  });

  it('with a token: 401 without it; a bearer header, or the one-time link and its cookie, let in', async () => {
    const token = 'test-token-0123456789abcdef';
    const d = await startDashboard({ db: store, feed: new PipelineFeed(new Engine(defaultSpec())), host: '127.0.0.1', port: 0, token });
    const b = `http://127.0.0.1:${d.port}`;
    try {
      const denied = await fetch(`${b}/api/stats`);
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as { error: string }).error).toMatch(/token required/);
      expect((await fetch(`${b}/metrics`)).status).toBe(401);
      expect((await fetch(`${b}/api/stats`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
      expect((await fetch(`${b}/api/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${b}/healthz`)).status).not.toBe(401);
      const link = await fetch(`${b}/?token=${token}`, { redirect: 'manual' });
      expect(link.status).toBe(303);
      expect(link.headers.get('location')).toBe('/');
      const cookie = link.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const withCookie = await fetch(`${b}/api/alerts?limit=1`, { headers: { cookie: cookie.split(';')[0]! } });
      expect(withCookie.status).toBe(200);
    } finally {
      await d.close();
    }
  });

  it('tickflow serve --host 0.0.0.0 without a token exits 2 with one clear line', async () => {
    const r = await tickflow(['serve', '--db', pg.url, '--host', '0.0.0.0', '--port', '0'], { env: { TICKFLOW_TOKEN: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tickflow: --host 0\.0\.0\.0 is reachable from other machines: give --token/)]);
  });

  it('tickflow run --port with a bad value exits 2 naming the flag', async () => {
    const r = await tickflow(['run', '--db', 'memory', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port: "http" is not a port number \(0-65535; 0 takes a free one\) \[bad_flag\]/);
  });
});
