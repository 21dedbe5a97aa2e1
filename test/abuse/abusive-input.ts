import { writeFileSync } from 'node:fs';
import { dirtyFeed } from '../../src/simulate/dirty-feed.ts';
import type { RejectCode } from '../../src/trade/parse.ts';

/**
 * Hostile lines mixed into an ordinary dirty feed, each with what must become of it, written
 * by hand (not by asking the parser): the tests check every one by line number, and check that
 * the ordinary trades around them are stored exactly (by the oracle).
 */
export type Fate = { kind: 'dead'; code: RejectCode } | { kind: 'stored'; tradeId: string } | { kind: 'blank' };

export interface AbusiveLine {
  name: string;
  bytes: Buffer;
  fate: Fate;
}

export const T0 = Date.UTC(2026, 10, 25, 14, 0, 0);
export const TEN_MB = 10 * 1024 * 1024;
export const SQL_TICKER = "'; DROP TABLE stock_trades;--";
export const SQL_ID = "sql-'; DROP TABLE stock_trades;--";
export const HTML_ID = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';

const dead = (code: RejectCode): Fate => ({ kind: 'dead', code });

/** Where a hostile line's event time goes; the feed fills it in (see abusiveFeed). */
const TS = '__EVENT_TIME__';

/** The hostile lines, with a placeholder for the event time of the valid-looking ones. */
export function abusiveLines(): AbusiveLine[] {
  const at = (_offset: number): string => TS;
  const trade = (o: Record<string, unknown>, _offset: number): string =>
    JSON.stringify({ trade_id: 'x', ticker: 'AAPL', price: '187.5000', volume: 100, trade_timestamp: TS, ...o });
  const l = (name: string, text: string | Buffer, fate: Fate): AbusiveLine => ({ name, bytes: Buffer.isBuffer(text) ? text : Buffer.from(text), fate });
  return [
    l('empty line', '', { kind: 'blank' }),
    l('whitespace only', ' \t ', { kind: 'blank' }),
    l('empty JSON object', '{}', dead('missing_field')),
    l('JSON null', 'null', dead('not_an_object')),
    l('NUL bytes', Buffer.from([0, 0, 0]), dead('invalid_json')),
    l('10 MB record', trade({ trade_id: 'ten-mb', pad: 'x'.repeat(TEN_MB) }, 1_000), dead('too_large')),
    l(
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"trade_id":"utf8-'),
        Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
        Buffer.from(`","ticker":"AAPL","price":"1","volume":1,"trade_timestamp":"${TS}"}`),
      ]),
      dead('invalid_utf8'),
    ),
    l('overlong UTF-8 encoding of "/"', Buffer.from([0x22, 0xc0, 0xaf, 0x22]), dead('invalid_utf8')),
    l('100k levels of [', '['.repeat(100_000), dead('too_large')),
    l('30k levels of [ ], under the size cap', `${'['.repeat(30_000)}${']'.repeat(30_000)}`, dead('not_an_object')),
    l('10k levels of {"a":', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, dead('missing_field')),
    l('volume beyond int32', trade({ trade_id: 'vol-int32', volume: 2_147_483_648 }, 2_000), dead('invalid_volume')),
    l('volume 1e400', trade({ trade_id: 'vol-1e400' }, 2_000).replace('"volume":100', '"volume":1e400'), dead('invalid_volume')),
    l('negative volume', trade({ trade_id: 'vol-neg', volume: -100 }, 2_000), dead('invalid_volume')),
    l('price beyond NUMERIC(10,4)', trade({ trade_id: 'price-big', price: '1000000.0000' }, 2_000), dead('invalid_price')),
    l('price 1e400', trade({ trade_id: 'price-1e400' }, 2_000).replace('"price":"187.5000"', '"price":1e400'), dead('invalid_price')),
    l('negative price', trade({ trade_id: 'price-neg', price: '-1.0000' }, 2_000), dead('invalid_price')),
    l('price "NaN"', trade({ trade_id: 'price-nan', price: 'NaN' }, 2_000), dead('invalid_price')),
    l('price "Infinity"', trade({ trade_id: 'price-inf', price: 'Infinity' }, 2_000), dead('invalid_price')),
    l('bare NaN (not JSON)', trade({ trade_id: 'price-bare-nan' }, 2_000).replace('"price":"187.5000"', '"price":NaN'), dead('invalid_json')),
    l('epoch 1e400', trade({ trade_id: 'ts-1e400' }, 2_000).replace(/"trade_timestamp":"[^"]+"/, '"trade_timestamp":1e400'), dead('invalid_timestamp')),
    l('ticker with SQL', trade({ trade_id: 'ticker-sql', ticker: SQL_TICKER }, 2_000), dead('invalid_ticker')),
    l('ticker with <script>', trade({ trade_id: 'ticker-script', ticker: '<script>alert(1)</script>' }, 2_000), dead('invalid_ticker')),
    l('ticker with <img onerror>', trade({ trade_id: 'ticker-img', ticker: '<img src=x onerror=alert(1)>' }, 2_000), dead('invalid_ticker')),
    // Duplicate keys: the last one wins (JSON.parse's rule, and Flink's JSON functions agree).
    l(
      'duplicate keys',
      `{"trade_id":"dup-keys","ticker":"MSFT","ticker":"NVDA","price":"1.0000","price":"2.5000","volume":5,"volume":7,"trade_timestamp":"${at(3_000)}"}`,
      { kind: 'stored', tradeId: 'dup-keys' },
    ),
    l(
      'duplicate keys, last one invalid',
      `{"trade_id":"dup-bad","ticker":"AAPL","price":"1","volume":5,"volume":0,"trade_timestamp":"${at(3_000)}"}`,
      dead('invalid_volume'),
    ),
    // Hostile text in the free-form trade_id is data: stored verbatim through parameters.
    l('trade_id with SQL', trade({ trade_id: SQL_ID }, 4_000), { kind: 'stored', tradeId: SQL_ID }),
    l('trade_id with HTML, a large trade', trade({ trade_id: HTML_ID, ticker: 'NVDA', volume: 5_000_000 }, 4_000), { kind: 'stored', tradeId: HTML_ID }),
    l('trade_id with quotes and a backslash', trade({ trade_id: 'q"\\\'x' }, 4_000), { kind: 'stored', tradeId: 'q"\\\'x' }),
  ];
}

/**
 * An ordinary dirty feed (replays, malformed lines, disorder) with the hostile lines spread
 * through it. Each hostile line is dated by the newest event time before it: never late, and on
 * the Kafka path its record time keeps it where the file has it.
 */
export function abusiveFeed(startMs = T0): { lines: Buffer[]; hostile: Map<number, AbusiveLine> } {
  const lines: Buffer[] = [...dirtyFeed({ seed: 77, count: 1_200, startMs, stepMs: 97, largeFraction: 0.03 })].map((s) => Buffer.from(s));
  const hostile = new Map<number, AbusiveLine>();
  abusiveLines().forEach((b, i) => {
    const at = 20 + i * 37; // 0-based position in the final file
    let newest = startMs;
    for (const prev of lines.slice(0, at)) {
      const m = /"(?:trade_)?timestamp":"([^"]+)"/.exec(prev.toString('latin1', 0, 400));
      const ms = m ? Date.parse(m[1]!) : Number.NaN;
      if (Number.isFinite(ms) && ms > newest && ms < startMs + 86_400_000) newest = ms;
    }
    const bytes = b.bytes.includes(TS) ? Buffer.from(b.bytes.toString('latin1').replaceAll(TS, new Date(newest).toISOString()), 'latin1') : b.bytes;
    const line = { ...b, bytes };
    lines.splice(at, 0, bytes);
    hostile.set(at + 1, line); // 1-based line number
  });
  return { lines, hostile };
}

export function writeFeed(path: string, lines: Buffer[]): void {
  writeFileSync(path, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
}
