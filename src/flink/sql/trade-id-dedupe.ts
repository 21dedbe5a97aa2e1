import { VIEW, type SqlFragment } from './views.ts';

/**
 * First trade_id wins: keep-first-row deduplication in arrival order (append-only, rowtime
 * kept), remembered for the state TTL (the dedupe horizon, job-settings.ts).
 */
export function tradeIdDedupe(): SqlFragment {
  return {
    ddl: [
      `CREATE TEMPORARY VIEW ${VIEW.trades} AS
SELECT trade_id, ticker, price, volume, event_time, source_offset, is_late FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY trade_id ORDER BY proc_time ASC) AS row_num FROM ${VIEW.valid}
) WHERE row_num = 1`,
      `CREATE TEMPORARY VIEW ${VIEW.onTime} AS SELECT * FROM ${VIEW.trades} WHERE NOT is_late`,
    ],
    inserts: [],
  };
}
