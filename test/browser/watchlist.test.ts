import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { tradeLine } from '../server/helpers.ts';
import { tickflow, TickflowProcess } from '../support/cli.ts';
import { freshDatabase } from '../support/postgres.ts';
import { launchChromium, watchedPage } from './chromium.ts';

/**
 * The watchlist and the alert feed's filters in real Chromium, over `tickflow serve` and a
 * database filled by replays of trades this file makes up: every figure on screen is checked
 * against what the test computes from those trades itself. A second replay while the page is
 * open must move the rows live. Alerts of other rules are written into the table as another
 * writer (a Flink job with a rules file) would.
 */
const TICKERS = ['AAPL', 'MSFT', 'NVDA'];
const T0 = Date.UTC(2026, 10, 25, 14, 0, 0);
const MIN = 60_000;

interface Trade {
  id: string;
  ticker: string;
  priceE4: bigint;
  volume: bigint;
  tsMs: number;
}

let pg: { url: string; drop: () => Promise<void> };
let serve: TickflowProcess;
let base: string;
let browser: Browser;
let page: Page;
let problems: string[];
const dir = mkdtempSync(join(tmpdir(), 'tickflow-watchlist-'));

/** Three trades a minute per ticker over [fromMin, toMin), a seeded walk; `large` trade indexes get 1.5M shares. */
function makeTrades(
  prefix: string,
  tickers: string[],
  fromMin: number,
  toMin: number,
  start: Record<string, bigint>,
  large: Record<string, number[]>,
): Trade[] {
  let seed = 12345 + fromMin;
  const rnd = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const out: Trade[] = [];
  tickers.forEach((ticker, k) => {
    let p = start[ticker]!;
    let i = 0;
    for (let m = fromMin; m < toMin; m++) {
      for (const s of [5, 25, 45]) {
        p += BigInt(rnd(1_201) - 600);
        const volume = large[ticker]?.includes(i) ? 1_500_000n : BigInt(100 + rnd(20_000));
        out.push({ id: `${prefix}-${ticker}-${i}`, ticker, priceE4: p, volume, tsMs: T0 + m * MIN + (s + k) * 1000 });
        i++;
      }
    }
  });
  return out.sort((a, b) => a.tsMs - b.tsMs);
}

function e4Text(x: bigint): string {
  return `${x / 10_000n}.${String(x % 10_000n).padStart(4, '0')}`;
}

const halfUp = (n: bigint, d: bigint): bigint => (2n * n + d) / (2n * d);

/** docs/dashboard.md#watchlist, from the trades: one-minute candles first, then the session over them. */
function expectedRow(trades: Trade[], ticker: string) {
  const mine = trades.filter((t) => t.ticker === ticker).sort((a, b) => a.tsMs - b.tsMs);
  const windows = new Map<number, Trade[]>();
  for (const t of mine) {
    const w = Math.floor(t.tsMs / MIN) * MIN;
    windows.set(w, [...(windows.get(w) ?? []), t]);
  }
  const candles = [...windows.values()].map((ts) => {
    const volume = ts.reduce((s, t) => s + t.volume, 0n);
    return {
      open: ts[0]!.priceE4,
      close: ts.at(-1)!.priceE4,
      volume,
      vwap: halfUp(
        ts.reduce((s, t) => s + t.priceE4 * t.volume, 0n),
        volume,
      ),
    };
  });
  const volume = candles.reduce((s, c) => s + c.volume, 0n);
  const open = candles[0]!.open;
  const last = candles.at(-1)!.close;
  const diff = last - open;
  const hundredths = halfUp((diff < 0n ? -diff : diff) * 10_000n, open);
  const change = `${diff < 0n && hundredths > 0n ? '-' : ''}${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
  // The trade-level VWAP: the documented figure may differ from it by at most 0.0001.
  const exactVwap = halfUp(
    mine.reduce((s, t) => s + t.priceE4 * t.volume, 0n),
    volume,
  );
  return {
    ticker,
    last: e4Text(last),
    changePct: change,
    volume: String(volume),
    vwap: e4Text(
      halfUp(
        candles.reduce((s, c) => s + c.vwap * c.volume, 0n),
        volume,
      ),
    ),
    exactVwap,
    alerts: String(mine.filter((t) => t.volume > 1_000_000n).length),
    sparkPoints: String(Math.min(30, candles.length)),
  };
}

function writeTrades(name: string, trades: Trade[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${trades.map((t) => tradeLine(t.id, t.ticker, e4Text(t.priceE4), Number(t.volume), t.tsMs)).join('\n')}\n`);
  return file;
}

async function replay(file: string): Promise<void> {
  const r = await tickflow(['run', '--source', `file:${file}`, '--db', pg.url, '--no-dashboard', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

const START = { AAPL: 1_872_300n, MSFT: 4_151_000n, NVDA: 1_205_000n };
const first = makeTrades('a', TICKERS, 0, 12, START, { AAPL: [7, 20], NVDA: [30] });
// Later the same day: AAPL and MSFT go on where they stopped; one more large AAPL trade.
const lastPrice = (t: string) => first.filter((x) => x.ticker === t).at(-1)!.priceE4;
const second = makeTrades('b', ['AAPL', 'MSFT'], 12, 15, { AAPL: lastPrice('AAPL'), MSFT: lastPrice('MSFT') }, { AAPL: [4] });

/** The rows on screen, as their data attributes say. */
function shownRows(p: Page): Promise<Record<string, string>[]> {
  return p.$$eval('#watchlist tbody tr', (trs) =>
    trs.map((tr) => {
      const d = (tr as unknown as { dataset: Record<string, string> }).dataset;
      const svg = (tr as unknown as { querySelector(s: string): { dataset: Record<string, string> } | null }).querySelector('svg');
      return {
        ticker: d.ticker!,
        last: d.last!,
        changePct: d.changePct!,
        volume: d.volume!,
        vwap: d.vwap!,
        alerts: d.alerts!,
        sparkPoints: svg?.dataset.points ?? '',
      };
    }),
  );
}

beforeAll(async () => {
  pg = await freshDatabase();
  await replay(writeTrades('first.jsonl', first));
  serve = new TickflowProcess(['serve', '--db', pg.url, '--port', '0']);
  base = await serve.dashboardUrl();
  browser = await launchChromium();
  ({ page, problems } = await watchedPage(browser));
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (serve) expect((await serve.stop()).code).toBe(0);
  await pg?.drop();
}, 60_000);

describe('watchlist in headless Chromium', { timeout: 120_000 }, () => {
  it('has a row per ticker with the session figures computed from the trades', async () => {
    const expected = TICKERS.map((t) => expectedRow(first, t));
    expect(await shownRows(page)).toEqual(expected.map(({ exactVwap: _, ...e }) => e));
    for (const e of expected) {
      const vwapE4 = BigInt(e.vwap.replace('.', ''));
      expect(vwapE4 - e.exactVwap).toBeGreaterThanOrEqual(-1n);
      expect(vwapE4 - e.exactVwap).toBeLessThanOrEqual(1n);
    }
    // What the cells say: 2 alerts for AAPL, and the change with its sign.
    const aapl = page.locator('#watchlist tbody tr[data-ticker="AAPL"] td');
    const cells = await aapl.allTextContents();
    expect(cells[0]).toBe('AAPL');
    expect(cells[5]).toBe('2');
    const pct = expected[0]!.changePct;
    expect(cells[2]).toBe(pct.startsWith('-') ? `−${pct.slice(1)}%` : `+${pct}%`);
    expect(await page.locator('#watchlist svg polyline').count()).toBe(3);
    expect(problems).toEqual([]);
  });

  it('switches the chart when a row is clicked', async () => {
    expect(await page.getAttribute('#chart', 'data-ticker')).toBe('AAPL');
    expect(await page.getAttribute('#watchlist tbody tr.active', 'data-ticker')).toBe('AAPL');
    for (const t of ['MSFT', 'NVDA', 'AAPL']) {
      await page.click(`#watchlist tbody tr[data-ticker="${t}"]`);
      await page.waitForSelector(`#chart[data-ticker="${t}"]`);
      expect(await page.inputValue('#ticker')).toBe(t);
      expect(await page.textContent('#chart-ticker')).toBe(t);
      expect(await page.getAttribute('#watchlist tbody tr.active', 'data-ticker')).toBe(t);
      // The chart shows that ticker's 12 stored candles and its last close.
      expect(await page.getAttribute('#chart', 'data-bars')).toBe('12');
      expect(await page.getAttribute('#chart', 'data-last-close')).toBe(expectedRow(first, t).last);
    }
  });

  it('moves the rows live when more trades of the session are stored', async () => {
    await replay(writeTrades('second.jsonl', second));
    const all = [...first, ...second];
    const expected = TICKERS.map((t) => expectedRow(all, t)).map(({ exactVwap: _, ...e }) => e);
    expect(expected[0]!.alerts).toBe('3');
    // Attribute selectors, not a predicate: the page's CSP forbids the eval a polled predicate needs.
    await page.waitForSelector(`#watchlist tbody tr[data-ticker="MSFT"][data-volume="${expected[1]!.volume}"]`, { timeout: 15_000 });
    await page.waitForSelector('#watchlist tbody tr[data-ticker="AAPL"][data-alerts="3"]', { timeout: 15_000 });
    expect(await shownRows(page)).toEqual(expected);
    // NVDA did not trade again: its row is the same as before.
    expect(expected[2]).toEqual((({ exactVwap: _, ...e }) => e)(expectedRow(first, 'NVDA')));
    expect(problems).toEqual([]);
  });
});

/** Alerts of rules the default rules file does not have; session day, distinct trade times. */
const OTHER_ALERTS = [
  { id: 'whale:x1', rule: 'whale', severity: 'critical', kind: 'notional', ticker: 'MSFT', min: 3 },
  { id: 'jump:x2', rule: 'jump', severity: 'info', kind: 'price_move', ticker: 'NVDA', min: 4 },
  { id: 'jump:x3', rule: 'jump', severity: 'warning', kind: 'price_move', ticker: 'MSFT', min: 5 },
  { id: 'block:x4', rule: 'block', severity: 'critical', kind: 'large_trade', ticker: 'AAPL', min: 6 },
];

async function insertAlerts(rows: { id: string; rule: string; severity: string; kind: string; ticker: string; min: number }[]): Promise<void> {
  const store = await openStore(pg.url);
  try {
    for (const a of rows) {
      await store.query(
        `INSERT INTO trade_alerts (alert_id, kind, rule, severity, trade_id, ticker, price, volume, trade_timestamp, threshold, detected_at, message)
         VALUES ($1, $2, $3, $4, $5, $6, 100, 1000, $7, NULL, now(), $8)`,
        [a.id, a.kind, a.rule, a.severity, a.id.split(':')[1], a.ticker, new Date(T0 + a.min * MIN + 500).toISOString(), `${a.rule} on ${a.ticker}`],
      );
    }
  } finally {
    await store.close();
  }
}

const feedIds = (p: Page): Promise<string[]> =>
  p.$$eval('#alerts tbody tr', (trs) => trs.map((tr) => (tr as unknown as { dataset: { alertId: string } }).dataset.alertId).sort());

/** Picks a filter value and waits until the feed holds the API's answer for it. */
async function pick(p: Page, name: 'rule' | 'kind' | 'ticker', value: string, query: string): Promise<void> {
  await p.selectOption(`#filter-${name}`, value);
  await p.waitForSelector(`body[data-feed-filter=${JSON.stringify(query)}]`);
}

describe('alert feed filters in headless Chromium', { timeout: 120_000 }, () => {
  const all = [...first, ...second];
  const large = all.filter((t) => t.volume > 1_000_000n);
  const ids = (pred: (a: { id: string; rule: string; kind: string; ticker: string }) => boolean) =>
    [...large.map((t) => ({ id: `large:${t.id}`, rule: 'large', kind: 'large_trade', ticker: t.ticker })), ...OTHER_ALERTS]
      .filter(pred)
      .map((a) => a.id)
      .sort();

  beforeAll(async () => {
    await insertAlerts(OTHER_ALERTS);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
  });

  it('shows each alert with its rule and severity', async () => {
    expect(large).toHaveLength(4);
    expect(await feedIds(page)).toEqual(ids(() => true));
    const cells = (id: string) => page.locator(`#alerts tbody tr[data-alert-id="${id}"] td`).allTextContents();
    expect((await cells('block:x4')).slice(1, 5)).toEqual(['block', 'critical', 'large trade', 'AAPL']);
    expect((await cells('jump:x2')).slice(1, 5)).toEqual(['jump', 'info', 'price move', 'NVDA']);
    expect((await cells('whale:x1')).slice(1, 5)).toEqual(['whale', 'critical', 'notional', 'MSFT']);
    expect((await cells(`large:${large[0]!.id}`)).slice(1, 3)).toEqual(['large', expect.stringMatching(/^(info|warning|critical)$/)]);
    // Severity is styled, not only written.
    expect(await page.getAttribute('#alerts tbody tr[data-alert-id="block:x4"] td.sev', 'class')).toContain('sev-critical');
    expect(await page.getAttribute('#alerts tbody tr[data-alert-id="jump:x2"] td.sev', 'class')).toContain('sev-info');
    const red = await page.evaluate<string>(`getComputedStyle(document.querySelector('#alerts tbody tr[data-alert-id="block:x4"] td.sev')).backgroundColor`);
    expect(red).not.toBe('rgba(0, 0, 0, 0)');
    expect(await page.locator('#filter-rule option').allTextContents()).toEqual(['all', 'block', 'jump', 'large', 'whale']);
    expect(await page.locator('#filter-ticker option').allTextContents()).toEqual(['all', ...TICKERS]);
  });

  it('filters by rule, by kind and by ticker, alone and together', async () => {
    await pick(page, 'rule', 'jump', 'rule=jump');
    expect(await feedIds(page)).toEqual(['jump:x2', 'jump:x3']);
    await pick(page, 'ticker', 'MSFT', 'rule=jump&ticker=MSFT');
    expect(await feedIds(page)).toEqual(['jump:x3']);
    await pick(page, 'rule', '', 'ticker=MSFT');
    expect(await feedIds(page)).toEqual(ids((a) => a.ticker === 'MSFT'));
    expect(await feedIds(page)).toEqual(['jump:x3', 'whale:x1']);
    await pick(page, 'ticker', '', '');
    await pick(page, 'kind', 'large_trade', 'kind=large_trade');
    expect(await feedIds(page)).toEqual(ids((a) => a.kind === 'large_trade'));
    expect(await feedIds(page)).toContain('block:x4');
    await pick(page, 'kind', 'notional', 'kind=notional');
    expect(await feedIds(page)).toEqual(['whale:x1']);
    await pick(page, 'kind', '', '');
    expect(await feedIds(page)).toEqual(ids(() => true));
  });

  it('applies the filter to live alerts', async () => {
    await pick(page, 'ticker', 'MSFT', 'ticker=MSFT');
    // Written in this order and detected in it: when the second is on screen the first was seen.
    await insertAlerts([{ id: 'jump:live-nvda', rule: 'jump', severity: 'info', kind: 'price_move', ticker: 'NVDA', min: 8 }]);
    await insertAlerts([{ id: 'whale:live-msft', rule: 'whale', severity: 'critical', kind: 'notional', ticker: 'MSFT', min: 9 }]);
    await page.waitForSelector('#alerts tbody tr[data-alert-id="whale:live-msft"]', { timeout: 15_000 });
    expect(await feedIds(page)).toEqual(['jump:x3', 'whale:live-msft', 'whale:x1']);
    await pick(page, 'ticker', '', '');
    expect(await feedIds(page)).toContain('jump:live-nvda');
    // The watchlist counted both live alerts.
    await page.waitForSelector('#watchlist tbody tr[data-ticker="NVDA"][data-alerts="3"]', { timeout: 15_000 });
    expect(problems).toEqual([]);
  });
});
