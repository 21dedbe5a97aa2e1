import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRulesUnchanged, copyRulesRecord, readRulesRecord, writeRulesRecord } from '../../src/flink/rules-record.ts';
import { specWith } from '../../src/spec/spec.ts';

const rules = (list: unknown[]) => specWith({ rules: list as never }).rules;
const before = rules([
  { name: 'block', kind: 'large_trade', threshold: 1_000_000 },
  { name: 'jump', kind: 'price_move', percent: 2, windowSeconds: 60 },
  { name: 'old', kind: 'notional', amount: 5_000_000 },
]);

describe('the rules a Flink job state belongs to (deploy → stop --savepoint → deploy --from-…)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tickflow-rules-record-'));
  const jobDir = join(root, 'checkpoints', 'tickflow');
  writeRulesRecord(`file://${jobDir}`, before);

  it('finds the record from a retained chk-<n> path or its _metadata, and from a savepoint it was copied into', () => {
    const chk = join(jobDir, '0123abcd', 'chk-7');
    mkdirSync(chk, { recursive: true });
    expect(readRulesRecord(chk)).not.toBeNull();
    expect(readRulesRecord(`file://${join(chk, '_metadata')}`)).toEqual(readRulesRecord(jobDir));
    const savepoint = join(root, 'sp', 'savepoint-0123ab-456');
    mkdirSync(savepoint, { recursive: true });
    expect(readRulesRecord(savepoint)).toBeNull();
    copyRulesRecord(jobDir, `file:${savepoint}`);
    expect(readRulesRecord(savepoint)).toEqual(readRulesRecord(jobDir));
  });

  it('lets the same rules restore (severity may change), and refuses others naming what changed', () => {
    const record = readRulesRecord(jobDir);
    expect(() => checkRulesUnchanged(record, before, 'sp')).not.toThrow();
    const louder = rules([
      { name: 'block', kind: 'large_trade', threshold: 1_000_000, severity: 'critical' },
      { name: 'jump', kind: 'price_move', percent: 2, windowSeconds: 60 },
      { name: 'old', kind: 'notional', amount: 5_000_000 },
    ]);
    expect(() => checkRulesUnchanged(record, louder, 'sp')).not.toThrow();
    const after = rules([
      { name: 'block', kind: 'large_trade', threshold: 1_000_000 },
      { name: 'jump', kind: 'price_move', percent: 3, windowSeconds: 60 },
      { name: 'whale', kind: 'notional', amount: 50_000_000 },
    ]);
    expect(() => checkRulesUnchanged(record, after, '/sp/savepoint-1')).toThrow(
      expect.objectContaining({
        code: 'flink_rules_changed',
        message: expect.stringContaining('the rules changed since /sp/savepoint-1 (redefined: jump; new: whale; removed: old)'),
      }),
    );
  });

  it('checks nothing where nothing was recorded (remote storage, an older savepoint)', () => {
    expect(readRulesRecord('s3://bucket/sp/savepoint-1')).toBeNull();
    expect(() => checkRulesUnchanged(null, before, 'sp')).not.toThrow();
  });
});
