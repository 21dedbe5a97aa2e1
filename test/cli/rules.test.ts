import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { openStore } from '../../src/store/open-store.ts';
import { tickflow } from '../support/cli.ts';
import { freshDatabase, readTables } from '../support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-rules-'));
const file = (name: string, body: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};
const dbs: Array<{ drop: () => Promise<void> }> = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

const RULES = {
  rules: [
    { name: 'block', kind: 'large_trade', threshold: 1000, overrides: { AAPL: 5000 }, severity: 'critical' },
    { name: 'whale', kind: 'notional', amount: 100_000 },
    { name: 'jump', kind: 'price_move', percent: 2, windowSeconds: 60, cooldownSeconds: 300, tickers: ['MSFT'], severity: 'info' },
  ],
};

describe('tickflow rules check', () => {
  it('prints each rule in words', async () => {
    const r = await tickflow(['rules', 'check', file('good.json', RULES)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toEqual([
      `${join(dir, 'good.json')}: 3 rules, valid`,
      '  block (large_trade, critical): alert on a trade of more than 1,000 shares (AAPL: 5,000); as each trade is read (late trades too); every ticker',
      '  whale (notional, warning): alert on a trade worth more than 100,000 (price × volume); as each trade is read (late trades too); every ticker',
      '  jump (price_move, info): alert on the price moving more than 2 % within 60 s (once per crossing); in event-time order, as the watermark passes each on-time trade; MSFT only; at most one alert per ticker in each 300 s of event time (from the epoch), later hits suppressed',
    ]);
  });

  it('names every problem: the rule, the field and what is wrong (exit 2, bad_config)', async () => {
    const bad = file('bad.json', {
      rules: [
        { name: 'block', kind: 'large_trade', threshold: -5 },
        { name: 'block', kind: 'notional', amount: 5 },
        { name: 'w', kind: 'notional', amount: 5, colour: 'red' },
        { name: 'x', kind: 'volume_spiky' },
        { name: 'j', kind: 'price_move', percent: 2, tickers: ['aapl'] },
        { name: 'has:colon', kind: 'large_trade' },
      ],
    });
    const r = await tickflow(['rules', 'check', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
      `tickflow: ${bad}: 7 problems in the rules [bad_config]`,
      '  rules[0] "block": threshold: Too small: expected number to be >=0',
      '  rules[1] "block": name: "block" is already the name of rules[0] (names must be unique)',
      '  rules[2] "w": unknown field "colour" (a notional rule has name, kind, amount, tickers, severity, cooldownSeconds)',
      '  rules[3] "x": kind: unknown kind "volume_spiky" (one of large_trade, notional, volume_spike, price_move)',
      '  rules[4] "j": tickers[0]: a ticker is 1-10 of A-Z 0-9 . -',
      '  rules[4] "j": windowSeconds: missing (a price_move rule needs it)',
      '  rules[5] "has:colon": name: must be 1-40 of A-Z a-z 0-9 _ . - (it is the prefix of each alert_id)',
    ]);
  });

  it('refuses a file that is not a rules file, in one line', async () => {
    const cases = [
      ['{"rules": [', 'cannot read'],
      ['{"rulez": []}', 'expected {"rules": [ … ]}'],
      ['{"rules": [], "extra": 1}', 'unknown key "extra"'],
    ] as const;
    const results = await Promise.all(cases.map(([body], i) => tickflow(['rules', 'check', file(`odd-${i}.json`, body)])));
    for (const [i, r] of results.entries()) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(cases[i]![1]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('--threshold sets the rule named "large", and says so when there is none', async () => {
    const r = await tickflow(['spec', '--rules', file('no-large.json', RULES), '--threshold', '7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tickflow: --threshold: there is no rule named "large" in the rules (it sets that rule\'s threshold) [bad_flag]\n');
    const ok = await tickflow(['spec', '--threshold', '7']);
    expect((JSON.parse(ok.stdout) as { rules: Array<{ name: string; threshold?: number }> }).rules).toContainEqual({
      name: 'large',
      kind: 'large_trade',
      threshold: 7,
      severity: 'warning',
    });
  });
});

describe('run --rules', () => {
  it('stores each alert with its rule, severity and fields, and counts alerts and suppressed hits per rule', async () => {
    const t = (i: number, ticker: string, price: string, volume: number, s: number) =>
      JSON.stringify({ trade_id: `r${i}`, ticker, price, volume, trade_timestamp: new Date(Date.UTC(2026, 10, 25, 14, 0, s)).toISOString() });
    const trades = file(
      'trades.jsonl',
      [
        t(0, 'AAPL', '100.00', 4000, 0), // under AAPL's override; whale (400,000)
        t(1, 'AAPL', '100.00', 6000, 1), // block (5,000 for AAPL) + whale (600,000)
        t(2, 'MSFT', '10.00', 1500, 2), // block
        t(3, 'MSFT', '10.30', 10, 3), // jump: +3 % from 10.00
        t(4, 'MSFT', '10.00', 10, 4), // back within: re-armed
        t(5, 'MSFT', '10.40', 10, 5), // crosses again, same 300 s slice: suppressed
      ].join('\n'),
    );
    const db = await freshDatabase('tickflow_rules');
    dbs.push(db);
    const r = await tickflow(['run', '--source', `file:${trades}`, '--rules', file('run.json', RULES), '--db', db.url, '--json', '--no-dashboard']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { rules: unknown }).rules).toEqual({
      block: { alerts: 2, suppressed: 0 },
      whale: { alerts: 2, suppressed: 0 },
      jump: { alerts: 1, suppressed: 1 },
    });
    const { alerts } = await readTables(db.url, {
      alerts: `SELECT concat_ws('|', alert_id, kind, rule, severity, coalesce(threshold::text, '-'), coalesce(amount::text, '-'),
                 coalesce(notional::text, '-'), coalesce(reference_price::text, '-'), coalesce(change_percent::text, '-'), message) AS row FROM trade_alerts`,
    });
    expect(alerts).toEqual([
      'block:r1|large_trade|block|critical|5000|-|-|-|-|Large trade detected for AAPL',
      'block:r2|large_trade|block|critical|1000|-|-|-|-|Large trade detected for MSFT',
      'jump:r3|price_move|jump|info|-|-|-|10.0000|3.00|Price move detected for MSFT',
      'whale:r0|notional|whale|warning|-|100000.00|400000.0000|-|-|Large notional trade for AAPL',
      'whale:r1|notional|whale|warning|-|100000.00|600000.0000|-|-|Large notional trade for AAPL',
    ]);
  });
});

describe('migration 4 (alert rules)', () => {
  it('gives alerts stored before it their rule (the alert_id prefix) and severity warning', async () => {
    const db = await freshDatabase('tickflow_rules_mig');
    dbs.push(db);
    const old = await openStore(db.url, { migrate: false });
    try {
      await old.query('CREATE TABLE tickflow_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      for (const m of MIGRATIONS.filter((x) => x.version < 4)) {
        await old.query(m.sql);
        await old.query('INSERT INTO tickflow_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
      await old.query(`INSERT INTO trade_alerts (alert_id, kind, trade_id, ticker, price, volume, trade_timestamp, threshold, detected_at, message)
        VALUES ('large:old-1', 'large_trade', 'old-1', 'AAPL', 1, 2000000, now(), 1000000, now(), 'Large trade detected for AAPL'),
               ('spike:old:2', 'volume_spike', 'old:2', 'AAPL', 1, 500, now(), NULL, now(), 'Volume spike detected for AAPL')`);
    } finally {
      await old.close();
    }
    const store = await openStore(db.url);
    await store.close();
    const { rows } = await readTables(db.url, { rows: `SELECT alert_id || '|' || rule || '|' || severity AS row FROM trade_alerts` });
    expect(rows).toEqual(['large:old-1|large|warning', 'spike:old:2|spike|warning']);
  });
});
