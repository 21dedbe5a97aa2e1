import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/postgres.ts';
import { createTopic, produceLines, uniqueName } from '../support/stack.ts';
import { BROKERS } from './kafka-support.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let pg: { url: string; drop: () => Promise<void> };
let serve: ChildProcess | null = null;

beforeAll(async () => {
  pg = await freshDatabase();
});
afterAll(async () => {
  serve?.kill('SIGTERM');
  await pg?.drop();
});

/** Reads an SSE response until `until` returns true for the text so far, or the deadline. */
async function readStream(url: string, until: (text: string) => boolean, ms: number): Promise<string> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  let text = '';
  try {
    const res = await fetch(url, { signal: ctl.signal });
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
      if (until(text)) break;
    }
  } catch {
    // aborted at the deadline: return what arrived
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  return text;
}

describe('tickflow serve --brokers', () => {
  it('streams an alert published on the alerts topic by another client, once', async () => {
    const topic = uniqueName('serve_alerts');
    await createTopic(topic);
    serve = spawn(process.execPath, [MAIN, 'serve', '--db', pg.url, '--brokers', BROKERS, '--alerts-topic', topic, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      serve!.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /dashboard on (http:\/\/\S+?)\/? over/.exec(err);
        if (m) resolve(m[1]!);
      });
      serve!.on('close', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const alert = {
      alert_id: 'large:serve-test-1',
      kind: 'large_trade',
      trade_id: 'serve-test-1',
      ticker: 'NVDA',
      price: '123.4500',
      volume: 2_500_000,
      trade_timestamp: '2026-11-25T10:00:00.000Z',
      threshold: 1_000_000,
      detected_at: '2026-11-25T10:00:00.100Z',
      message: 'Large trade detected for NVDA',
    };
    // Read for a fixed while (the alert plus time for a duplicate to show up, if it would).
    const streamed = readStream(`${url}/api/stream`, () => false, 15_000);
    await new Promise((r) => setTimeout(r, 1_500)); // the page is open before the alert exists
    // Kafka's own console producer, twice: an at-least-once replay is shown once.
    await produceLines(topic, [JSON.stringify(alert), JSON.stringify(alert)]);
    const text = await streamed;
    const events = text.split('\n\n').filter((e) => e.includes('event: alert'));
    expect(events).toHaveLength(1);
    const data = JSON.parse(events[0]!.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
    expect(data).toEqual({ ...alert, baseline_mean: null });
  });

  it('refuses an alerts topic that does not exist, in one line', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [MAIN, 'serve', '--db', pg.url, '--brokers', BROKERS, '--alerts-topic', uniqueName('missing'), '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
  });
});
