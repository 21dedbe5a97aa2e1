/**
 * The broker goes away under `tickflow alerts forward` while it is delivering (a slow endpoint
 * keeps alerts queued): the alerts already read keep going out, offset commits fail meanwhile,
 * and once the broker is back the forwarder joins its group again and drops, by alert_id, what
 * it reads a second time. Every alert reaches the endpoint once. A file of its own: stopping
 * the broker would disturb the other forwarder tests, which run concurrently.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { stackUp, stopComponent } from '../../src/stack/stack.ts';
import { testStackSettings, uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { alert, alertsTopic, cleanUp, delivered, endpoint, forwarder, ids, publish, sorted, stopWhenCommitted } from './forward-support.ts';

const OUTAGE_MS = 10_000;

afterAll(async () => {
  await cleanUp();
  // Whatever happened above, the next test file needs its broker.
  await stackUp(testStackSettings());
});

describe('the broker stopped under alerts forward, then started', () => {
  it('delivery goes on, the forwarder rejoins its group, and no alert is lost or sent twice', async () => {
    const topic = await alertsTopic(1);
    const hook = await endpoint();
    hook.delayMs = 400;
    const group = uniqueName('fwd_broker');
    const before = Array.from({ length: 40 }, (_, i) => alert(`k-${i}`));
    const after = Array.from({ length: 5 }, (_, i) => alert(`l-${i}`, 'MSFT'));
    await publish(topic, before);
    const f = forwarder(topic, group, `webhook:${hook.url()}`, ['--max-per-minute', '1000']);
    await waitFor(() => hook.deliveredIds().length >= 3, { what: 'the first deliveries', timeoutMs: 240_000, context: () => f.stderr });

    // The outage is the fault under test, so its length is a timer.
    const settings = testStackSettings();
    await stopComponent(settings, 'kafka');
    await sleep(OUTAGE_MS);
    expect(f.running, f.stderr).toBe(true);
    await stackUp(settings);
    await publish(topic, after);

    const all = ids([...before, ...after]);
    await delivered(hook, all, f);
    const r = await stopWhenCommitted(f, group, topic);
    expect(r.code, r.stderr).toBe(0);
    expect(sorted(hook.deliveredIds())).toEqual(sorted(all));
    expect(r.stderr).toMatch(/forward: lost the broker \(.+\); reconnecting — alerts already queued keep going out/);
    expect(r.stderr).toContain('forward: reconnected to the broker; alerts read again are dropped by alert_id');
  });
});
