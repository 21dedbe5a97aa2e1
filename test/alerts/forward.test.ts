/**
 * `tickflow alerts forward` against a real HTTP endpoint started here (node:http on port 0) and
 * the real broker of the test stack: each alert reaches the endpoint once — through an outage
 * of the endpoint, a SIGTERM restart and a kill -9 (which may repeat only the request in
 * flight) — replays of an alert_id are dropped, a 4xx is a refusal reported once, and alerts
 * over the rate limit are named in one summary. The tests run concurrently: the outage lasts
 * 20 s and the rate limit's window a minute, and neither needs the other to wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Forwarder } from '../../src/alerts/forward/forwarder.ts';
import { parseTarget } from '../../src/alerts/forward/target.ts';
import type { AlertJson } from '../../src/kafka/alert-json.ts';
import { BROKERS, committedTotal } from '../kafka/kafka-support.ts';
import { tickflow } from '../support/cli.ts';
import { uniqueName } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';
import { alert, alertsTopic, cleanUp, delivered, endpoint, forwarder, ids, publish, sorted, stopWhenCommitted } from './forward-support.ts';

afterAll(cleanUp);

describe.concurrent('tickflow alerts forward', () => {
  it('delivers each alert once as published (webhook) and as one line per alert (slack); a replay is dropped, a 400 reported once', async () => {
    const topic = await alertsTopic(2);
    const hook = await endpoint();
    const slack = await endpoint();
    const alerts = [...Array.from({ length: 30 }, (_, i) => alert(`t-${i}`, ['AAPL', 'MSFT', 'NVDA'][i % 3])), alert('refuse-me', 'TSLA')];
    alerts.push(...Array.from({ length: 6 }, (_, i) => alert(`s-${i}`, 'AMZN', 'volume_spike')));
    hook.refuse.add('large:refuse-me');
    const published = await publish(topic, alerts, 2);
    // An engine republishing after a crash: the same alerts again, later on the topic.
    await publish(topic, alerts.slice(0, 5), 2);
    const groups = { hook: uniqueName('fwd_hook'), slack: uniqueName('fwd_slack') };
    const f = forwarder(topic, groups.hook, `webhook:${hook.url()}`, ['--max-per-minute', '1000']);
    const s = forwarder(topic, groups.slack, `slack:${slack.url()}`, ['--max-per-minute', '1000']);
    const accepted = ids(alerts).filter((id) => id !== 'large:refuse-me');
    await delivered(hook, accepted, f);
    await waitFor(() => slack.delivered().flatMap((b) => String(b.text).split('\n')).length >= alerts.length, {
      what: 'every alert in a Slack message',
      context: () => s.stderr,
    });
    const [fr, sr] = await Promise.all([stopWhenCommitted(f, groups.hook, topic), stopWhenCommitted(s, groups.slack, topic)]);
    expect(fr.code, fr.stderr).toBe(0);
    expect(sr.code, sr.stderr).toBe(0);

    // Webhook: the published bytes, each once (the replays dropped); the refused one tried once.
    const bodies = hook.requests.filter((r) => r.status === 200).map((r) => r.body);
    expect(sorted(bodies)).toEqual(sorted(published.filter((p) => !p.includes('refuse-me'))));
    expect(hook.requests.filter((r) => r.body.includes('refuse-me')).map((r) => r.status)).toEqual([400]);
    expect(fr.stderr.match(/refused large:refuse-me \(HTTP 400 Bad Request: no such channel\); not sent again/g)).toHaveLength(1);
    expect(fr.stderr).not.toContain('SECRET-TOKEN');

    // Slack: {"text"} only, one readable line per alert, each alert once.
    const lines: string[] = [];
    for (const b of slack.delivered()) {
      expect(Object.keys(b)).toEqual(['text']);
      lines.push(...String(b.text).split('\n'));
    }
    for (const line of lines)
      expect(line).toMatch(/^(LARGE|SPIKE) [A-Z]+ 2,500,000 @ 187\.2300 \(> .+\) at 2026-11-25T10:00:00\.000Z: .+ \[(large|spike):[^\]]+\]$/);
    expect(sorted(lines.map((l) => /\[([^\]]+)\]$/.exec(l)![1]!))).toEqual(sorted(ids(alerts)));
    expect(lines).toContain('LARGE TSLA 2,500,000 @ 187.2300 (> 1,000,000) at 2026-11-25T10:00:00.000Z: Large trade detected for TSLA [large:refuse-me]');
    expect(lines).toContain(
      'SPIKE AMZN 2,500,000 @ 187.2300 (> 10× mean 120000.0000 of last 50) at 2026-11-25T10:00:00.000Z: Volume spike for AMZN [spike:s-0]',
    );
  });

  it('waits out a 20 s outage of the endpoint (429 with Retry-After, 503s, then connections refused): nothing lost, nothing twice', async () => {
    const topic = await alertsTopic(1);
    const hook = await endpoint();
    const group = uniqueName('fwd_outage');
    const before = Array.from({ length: 10 }, (_, i) => alert(`pre-${i}`));
    const during = Array.from({ length: 25 }, (_, i) => alert(`out-${i}`, 'MSFT'));
    const after = Array.from({ length: 10 }, (_, i) => alert(`post-${i}`, 'NVDA'));
    await publish(topic, before);
    const f = forwarder(topic, group, `webhook:${hook.url()}`, ['--max-per-minute', '1000']);
    await delivered(hook, ids(before), f);

    // The outage is the fault under test, so its length is a timer: 10 s of 429/503 answers,
    // then 10 s of refused connections.
    hook.mode = 'unavailable';
    await publish(topic, during);
    await waitFor(() => hook.requests.some((r) => r.status === 503), { what: 'the forwarder to meet the 503s', context: () => f.stderr });
    await sleep(10_000);
    await hook.stop();
    await sleep(10_000);
    hook.mode = 'ok';
    await hook.start();
    await publish(topic, after);

    const all = ids([...before, ...during, ...after]);
    await delivered(hook, all, f);
    const r = await stopWhenCommitted(f, group, topic);
    expect(r.code, r.stderr).toBe(0);
    expect(sorted(hook.deliveredIds())).toEqual(sorted(all));
    expect(r.stderr).toMatch(/unavailable \(HTTP 429 Too Many Requests: down for maintenance\); retrying large:out-0 with backoff/);
    expect(r.stderr).toMatch(/is back after \d+\.\d s \(\d+ failed attempts\)/);
  });

  it('a restart goes on where it stopped: SIGTERM repeats nothing; kill -9 repeats at most the alert in flight', async () => {
    const topic = await alertsTopic(1);
    const hook = await endpoint();
    const group = uniqueName('fwd_restart');
    const to = `webhook:${hook.url()}`;
    const first = Array.from({ length: 10 }, (_, i) => alert(`a-${i}`));
    const second = Array.from({ length: 10 }, (_, i) => alert(`b-${i}`, 'MSFT'));
    const third = Array.from({ length: 5 }, (_, i) => alert(`c-${i}`, 'NVDA'));

    await publish(topic, first);
    const f1 = forwarder(topic, group, to);
    await delivered(hook, ids(first), f1);
    const r1 = await f1.stop('SIGTERM');
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr).toContain('forward: stopped; 10 alert(s) delivered one by one, 0 named in 0 summary message(s), 0 refused, 0 replayed copies skipped');

    // An engine republishing an alert this group forwarded before the restart: still a replay.
    await publish(topic, [...second, first[3]!]);
    const f2 = forwarder(topic, group, to);
    await delivered(hook, ids(second), f2);
    await waitFor(async () => (await committedTotal(group, topic)) >= 21, {
      what: 'the replay to be passed over',
      timeoutMs: 120_000,
      context: () => f2.stderr,
    });
    expect(sorted(hook.deliveredIds())).toEqual(sorted(ids([...first, ...second])));

    // kill -9 while a request is in flight (the endpoint holds it unanswered).
    hook.mode = 'hold';
    await publish(topic, third);
    await waitFor(() => hook.held.length > 0, { what: 'a request held in flight', context: () => f2.stderr });
    const inFlight = String((JSON.parse(hook.requests.at(-1)!.body) as { alert_id: string }).alert_id);
    f2.child.kill('SIGKILL');
    await f2.done;
    for (const r of hook.held.splice(0)) r.destroy();
    hook.mode = 'ok';

    const f3 = forwarder(topic, group, to);
    await delivered(hook, ids(third), f3);
    const r3 = await stopWhenCommitted(f3, group, topic);
    expect(r3.code, r3.stderr).toBe(0);
    const all = ids([...first, ...second, ...third]);
    expect(sorted(hook.deliveredIds())).toEqual(sorted(all));
    // Every request the endpoint saw, answered or not: only the one in flight at the kill came twice.
    const seen = hook.requests.map((r) => String((JSON.parse(r.body) as { alert_id: string }).alert_id));
    const twice = seen.filter((id, i) => seen.indexOf(id) !== i);
    expect(twice.filter((id) => id !== inFlight)).toEqual([]);
    expect(twice.length).toBeLessThanOrEqual(1);
  });

  it('over --max-per-minute, the rest of the minute goes out as one summary that names every held-back alert', async () => {
    const topic = await alertsTopic(1);
    const hook = await endpoint();
    const group = uniqueName('fwd_rate');
    const alerts = [
      ...Array.from({ length: 9 }, (_, i) => alert(`r-${i}`, 'AAPL')),
      ...Array.from({ length: 3 }, (_, i) => alert(`v-${i}`, 'MSFT', 'volume_spike')),
    ];
    await publish(topic, alerts);
    const f = forwarder(topic, group, `webhook:${hook.url()}`, ['--max-per-minute', '5']);
    const summary = await waitFor(() => hook.delivered().find((b) => b.kind === 'summary'), {
      what: 'the summary at the end of the minute',
      timeoutMs: 240_000,
      context: () => f.stderr,
    });
    const r = await stopWhenCommitted(f, group, topic);
    expect(r.code, r.stderr).toBe(0);
    const individually = hook.deliveredIds();
    expect(individually).toEqual(ids(alerts.slice(0, 5)));
    expect(summary).toMatchObject({
      kind: 'summary',
      held_back: 7,
      dropped: 0,
      limit_per_minute: 5,
      counts: [
        { kind: 'large_trade', ticker: 'AAPL', count: 4 },
        { kind: 'volume_spike', ticker: 'MSFT', count: 3 },
      ],
      ids_omitted: 0,
    });
    expect(summary.alert_ids).toEqual(ids(alerts.slice(5)));
    expect(summary.message).toBe('7 alerts held back in the last minute (over 5 a minute): 4 large_trade AAPL, 3 volume_spike MSFT');
    expect(r.stderr).toContain(
      'tickflow: forward: 7 alerts held back in the last minute (over 5 a minute): 4 large_trade AAPL, 3 volume_spike MSFT — sent as one summary',
    );
    expect(r.stderr).toMatch(/tickflow: forward: 5 alerts sent this minute; holding the rest for one summary at \d\d:\d\d:\d\d UTC\n/);
    expect(hook.requests).toHaveLength(6);
  });

  it('--max-outage: an endpoint down for longer ends the forwarder (exit 1, forward_failed) with nothing it missed committed', async () => {
    const topic = await alertsTopic(1);
    const hook = await endpoint();
    hook.mode = 'unavailable';
    const group = uniqueName('fwd_maxout');
    await publish(topic, [alert('m-0'), alert('m-1')]);
    const f = forwarder(topic, group, `webhook:${hook.url()}`, ['--max-outage', '2']);
    const r = await f.done;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /tickflow: alerts forward: webhook:http:\/\/127\.0\.0\.1:\d+\/… has failed for \d+ s \(HTTP 503 Service Unavailable: down for maintenance\), over --max-outage; .* \[forward_failed\]\n$/,
    );
    expect(await committedTotal(group, topic)).toBe(0);
  });

  it('an embedded run can feed a Forwarder directly: offer() never blocks, a full queue is named in the summary, close() drains', async () => {
    const hook = await endpoint();
    hook.mode = 'unavailable';
    const settled: (string | undefined)[] = [];
    const forwarder = new Forwarder({
      target: parseTarget(`webhook:${hook.url()}`),
      maxPerMinute: 3,
      capacity: 5,
      windowMs: 1_000,
      backoff: { firstMs: 50, maxMs: 200 },
      onSettled: (items) => {
        settled.push(...items.map((i) => i.alert?.alert_id));
      },
    });
    const first = Array.from({ length: 12 }, (_, i) => alert(`e-${i}`, i < 8 ? 'AAPL' : 'MSFT') as unknown as AlertJson);
    // The endpoint is down: 5 are queued, the other 7 are named in the next summary instead.
    expect(forwarder.offer(first.map((a) => ({ alert: a })))).toBe(5);
    expect(forwarder.stats.overflowed).toBe(7);
    await waitFor(() => hook.requests.length >= 3, { what: 'retries against the unavailable endpoint' });
    hook.mode = 'ok';
    const summary = await waitFor(() => hook.delivered().find((b) => b.kind === 'summary'), { what: 'the summary' });
    // The window that overflowed holds back what follows in it too: one summary names all 12.
    expect(summary).toMatchObject({
      held_back: 12,
      dropped: 7,
      counts: [
        { kind: 'large_trade', ticker: 'AAPL', count: 8 },
        { kind: 'large_trade', ticker: 'MSFT', count: 4 },
      ],
    });
    expect(sorted(summary.alert_ids as string[])).toEqual(sorted(first.map((a) => a.alert_id)));
    const later = [alert('f-0') as unknown as AlertJson, alert('f-1') as unknown as AlertJson];
    expect(forwarder.offer(later.map((a) => ({ alert: a })))).toBe(2);
    await forwarder.close({ drainMs: 60_000 });
    expect(hook.deliveredIds()).toEqual(['large:f-0', 'large:f-1']);
    // Settled in the order offered: the 5 queued with their summary, then the two after it.
    expect(settled).toEqual([...first.slice(0, 5), ...later].map((a) => a.alert_id));
    expect(forwarder.stats).toMatchObject({ delivered: 2, heldBack: 12, summaries: 1, overflowed: 7, refused: 0 });
    expect(forwarder.offer([{ alert: later[0]! }])).toBe(0);
    expect(forwarder.pending).toBe(0);
  });

  it('a bad --to is one line naming the problem, exit 2, the URL never echoed', async () => {
    const cases: [string[], RegExp][] = [
      [['--to', 'ftp:http://h/x'], /^tickflow: --to: value has the unknown kind "ftp": use webhook:URL or slack:URL \[bad_flag\]\n$/],
      [['--to', 'http://h/SECRET'], /^tickflow: --to: value has the unknown kind "http": use webhook:URL or slack:URL \[bad_flag\]\n$/],
      [
        ['--to', 'webhook:not a url SECRET'],
        /^tickflow: --to: value has no valid URL after "webhook:" \(expected webhook:https:\/\/host\/path\) \[bad_flag\]\n$/,
      ],
      [['--to', 'slack:ftp://h/SECRET'], /^tickflow: --to: value has the scheme "ftp" after "slack:"; only http and https URLs are sent to \[bad_flag\]\n$/],
      [['--to', 'webhook'], /^tickflow: --to: value names no kind: use webhook:URL or slack:URL \[bad_flag\]\n$/],
      [[], /^tickflow: --to is required: webhook:URL or slack:URL \(or TICKFLOW_FORWARD_TO\) \[bad_flag\]\n$/],
      [['--to', 'webhook:http://h/x', '--max-per-minute', '0'], /^tickflow: --max-per-minute: "0" is not an integer in 1\.\.100000 \[bad_flag\]\n$/],
    ];
    const results = await Promise.all(cases.map(([args]) => tickflow(['alerts', 'forward', '--brokers', BROKERS, ...args])));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).not.toContain('SECRET');
    });
    const env = await tickflow(['alerts', 'forward', '--brokers', BROKERS], { env: { TICKFLOW_FORWARD_TO: 'pager:https://h/SECRET' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toBe('tickflow: TICKFLOW_FORWARD_TO: value has the unknown kind "pager": use webhook:URL or slack:URL [bad_config]\n');
  });
});
