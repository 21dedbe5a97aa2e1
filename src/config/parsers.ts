import { TickflowError } from '../tickflow-error.ts';

/**
 * Text → value for every setting, whether it came from a flag, the environment or the config
 * file. A parser throws with only the problem ("is not an integer in 1..10"); the resolver
 * says where the value came from.
 */
export type Parser<T> = (text: string) => T;

const problem = (text: string): TickflowError => new TickflowError('bad_config', text);

export const text: Parser<string> = (v) => {
  if (v.trim() === '') throw problem('is empty');
  return v;
};

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return (v) => {
    const n = Number(v.replace(/_/g, ''));
    if (!/^-?[\d_]+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw problem(`is not an integer in ${min}..${max}`);
    return n;
  };
}

export function decimal(min: number, max: number): Parser<number> {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw problem(`is not a number in ${min}..${max}`);
    return n;
  };
}

/** Seconds as a decimal ("30", "0.5") → milliseconds. */
export function seconds(min = 0.001, max = 31_536_000): Parser<number> {
  const n = decimal(min, max);
  return (v) => Math.round(n(v) * 1000);
}

/** "1000" per second, or "max" (also "0") for as fast as possible. */
export const rate: Parser<number | 'max'> = (v) => (v === 'max' || v === '0' ? 'max' : integer(1, 10_000_000)(v));

export const tickers: Parser<string[]> = (v) => {
  const list = v
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s.length > 0);
  const bad = list.find((t) => !/^[A-Z0-9.-]{1,10}$/.test(t));
  if (list.length === 0 || bad !== undefined) throw problem(`is not a ticker list (${bad === undefined ? 'empty' : `"${bad}"`}; 1-10 of A-Z 0-9 . -)`);
  return [...new Set(list)];
};

export const port: Parser<number> = (v) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65_535) throw problem('is not a port number (1-65535)');
  return n;
};

export const listenPort: Parser<number> = (v) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65_535) throw problem('is not a port number (0-65535; 0 takes a free one)');
  return n;
};

export const memory: Parser<string> = (v) => {
  if (!/^\d+[mg]$/i.test(v)) throw problem('is not a size like 512m or 2g');
  return v;
};

export const httpUrl: Parser<string> = (v) => {
  if (!/^https?:\/\/[^\s/]+/.test(v)) throw problem('is not an http:// URL');
  return v.replace(/\/+$/, '');
};

export const postgresUrl: Parser<string> = (v) => {
  if (!/^postgres(ql)?:\/\//.test(v)) throw problem('is not a postgres:// URL');
  return v;
};

/** host:port[,host:port…]; IPv6 hosts in brackets. */
export const brokerList: Parser<string[]> = (v) => {
  const list = v
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (list.length === 0) throw problem('names no broker (host:port[,host:port…])');
  for (const b of list) {
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(b);
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65_535) throw problem(`is not host:port[,host:port…]${list.length > 1 ? ` ("${b}")` : ''}`);
  }
  return list;
};

export const yesNo: Parser<boolean> = (v) => {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off|)$/i.test(v)) return false;
  throw problem('is not yes/no (1, true, yes, on / 0, false, no, off)');
};

export function oneOf<const T extends string>(choices: readonly T[], normalise: (v: string) => string = (v) => v): Parser<T> {
  return (v) => {
    const n = normalise(v);
    if (!(choices as readonly string[]).includes(n)) throw problem(`is not one of ${choices.join(', ')}`);
    return n as T;
  };
}

/** An ISO-8601 time → epoch ms. */
export const isoTime: Parser<number> = (v) => {
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw problem('is not an ISO-8601 time');
  return ms;
};
