/**
 * `tickflow run --source kafka --forward`: the TS consumer sends the alerts it stores to a real
 * HTTP endpoint, each once, and a second run of the same group (which takes the checkpoints
 * over and reads nothing new) sends nothing again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Endpoint } from '../support/alert-endpoint.ts';
import { tickflow } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';
import { uniqueName } from '../support/stack.ts';
import { dirtyLines, expectedFor, pipelineTopics, writeLines } from './kafka-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-kafka-forward-'));
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('tickflow run --source kafka --forward', () => {
  it('sends each alert the consumer stores once; the group run again sends nothing', async () => {
    const hook = await new Endpoint().start();
    cleanups.push(() => hook.stop());
    const pg = await freshDatabase('tickflow_kfwd');
    cleanups.push(() => pg.drop());
    const topics = await pipelineTopics(dir, 'kfwd');
    const lines = dirtyLines(3_000, 97);
    const file = join(dir, 'trades.jsonl');
    writeLines(file, lines);
    const expected = expectedFor(lines, topics);
    expect(expected.alerts.length).toBeGreaterThan(20);
    expect((await tickflow(['produce', '--from', `file:${file}`, '--topic', topics.input])).code).toBe(0);

    const group = uniqueName('g');
    const args = ['run', '--source', 'kafka', '--stop-at-end', '--no-dashboard', '--json', '--spec', topics.specFile, '--group', group, '--db', pg.url];
    const forward = ['--forward', `webhook:${hook.url()}`, '--max-per-minute', '10000'];
    const r = await tickflow([...args, ...forward], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);

    const { alerts: stored } = await readTables(pg.url, { alerts: 'SELECT alert_id AS row FROM trade_alerts' });
    expect(stored).toHaveLength(expected.alerts.length);
    const ids = hook.requests.map((q) => String((JSON.parse(q.body) as { alert_id: string }).alert_id));
    expect([...ids].sort()).toEqual(stored);
    expect(JSON.parse(r.stdout).forward).toMatchObject({ delivered: stored.length, refused: 0, undelivered: 0 });

    const again = await tickflow([...args, ...forward], { timeoutMs: 300_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).forward).toMatchObject({ delivered: 0, undelivered: 0 });
    expect(hook.requests).toHaveLength(stored.length);
  }, 600_000);
});
