import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSpec, pipelineSqlScript, type FlinkTarget } from '../../src/flink/compile-spec.ts';
import { specWith, type PipelineSpecInput } from '../../src/spec/spec.ts';

/**
 * The SQL the compiler prints for a few specs, compared with files under golden/: a compiler
 * change shows as an SQL diff in review. After an intended change, regenerate them with
 * `TICKFLOW_UPDATE_GOLDEN=1 npx vitest run test/flink-sql` and read the diff before committing.
 * (The gateway tests under test/flink run the real job.)
 */
const target: FlinkTarget = {
  kafkaBootstrap: '127.0.0.1:9092',
  jdbcUrl: 'jdbc:postgresql://127.0.0.1:5432/tickflow?reWriteBatchedInserts=true',
  jdbcUser: 'postgres',
  jdbcPassword: '***',
  jobName: 'tickflow',
  groupId: 'tickflow-flink',
  parallelism: 3,
  transactionalIdPrefix: 'tickflow-alerts',
  checkpointDir: 'file:///var/flink/checkpoints/tickflow',
};

const cases: Array<[string, PipelineSpecInput, Partial<FlinkTarget>]> = [
  ['defaults', {}, {}],
  ['spike-rule-off', { rules: { volumeSpike: { enabled: false } } }, {}],
  ['no-alert-rules', { rules: { volumeSpike: { enabled: false }, largeTrade: { enabled: false } } }, {}],
  ['exactly-once', { delivery: { alerts: 'exactly-once', checkpointIntervalMs: 2_000 } }, {}],
  ['from-savepoint', {}, { fromSavepoint: 'file:///var/flink/savepoints/savepoint-3f2a1b-0123456789ab' }],
  [
    'tuned-rules-and-candles',
    {
      rules: { largeTrade: { threshold: 250_000 }, volumeSpike: { factor: 2.5, lookback: 32 } },
      candles: { intervalMs: 300_000 },
      input: { topic: 'ticks', maxRecordBytes: 4096, outOfOrdernessMs: 1500 },
    },
    { parallelism: 1 },
  ],
  [
    'every-rule-kind',
    {
      rules: [
        { name: 'block', kind: 'large_trade', threshold: 900_000, overrides: { AAPL: 2_000_000, 'BRK.B': 5 }, severity: 'critical' },
        { name: 'whale', kind: 'notional', amount: 200_000_000.5, cooldownSeconds: 20 },
        { name: 'spike', kind: 'volume_spike', factor: 3, lookback: 20, tickers: ['NVDA', 'TSLA'] },
        { name: 'jump', kind: 'price_move', percent: 0.1, windowSeconds: 30, severity: 'info' },
      ],
    },
    {},
  ],
];

const golden = (name: string): string => new URL(`golden/${name}.sql`, import.meta.url).pathname;

describe('compiled Flink SQL (golden files)', () => {
  it.each(cases)('%s', (name, spec, overrides) => {
    const sql = pipelineSqlScript(compileSpec(specWith(spec), { ...target, ...overrides }), '/opt/tickflow/tickflow-udf.jar');
    if (process.env.TICKFLOW_UPDATE_GOLDEN === '1') writeFileSync(golden(name), sql);
    expect(sql).toBe(readFileSync(golden(name), 'utf8'));
  });

  it('every golden file belongs to a case (no stale SQL left to review)', () => {
    const names = new Set(cases.map(([n]) => `${n}.sql`));
    const files = readdirSync(new URL('golden/', import.meta.url));
    expect(files.filter((f) => !names.has(f))).toEqual([]);
  });
});
