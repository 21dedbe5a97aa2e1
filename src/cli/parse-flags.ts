import * as p from '../config/parsers.ts';
import { TickflowError } from '../tickflow-error.ts';

/**
 * Commander argument parsers for the flags that steer one invocation (--count, --limit…; the
 * settings are in src/config/settings.ts). Each names its flag in the error.
 */
export function flagParser<T>(flag: string, parse: p.Parser<T>): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (e) {
      throw new TickflowError('bad_flag', `${flag}: "${value.slice(0, 80)}" ${(e as Error).message}`);
    }
  };
}

export const intFlag = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER) => flagParser(flag, p.integer(min, max));
export const numberFlag = (flag: string, min: number, max: number) => flagParser(flag, p.decimal(min, max));
export const secondsFlag = (flag: string) => flagParser(flag, p.seconds());
export const rateFlag = flagParser('--rate', p.rate);
export const tickersFlag = flagParser('--tickers', p.tickers);
export const timeFlag = (flag: string) => flagParser(flag, p.isoTime);
