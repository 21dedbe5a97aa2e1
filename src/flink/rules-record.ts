import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Rule } from '../rules/registry.ts';
import { ruleFingerprint } from '../rules/rule-set.ts';
import { TickflowError } from '../tickflow-error.ts';
import { localPath } from './checkpoints.ts';

/**
 * Which rules a Flink job's state belongs to. Flink maps a savepoint's state to operators by the
 * plan it was taken from, and a changed rules list is a changed plan: restoring it fails, or
 * (told to skip unclaimed state) drops operators' state without saying which. So deploy writes
 * the rules' fingerprints next to the job's checkpoints, `flink stop --savepoint` copies them
 * into the savepoint, and a restore compares them with the rules being deployed first.
 * Only local (file://) storage can be read from here; elsewhere nothing is recorded or checked.
 */
const FILE = 'tickflow-rules.json';

export function writeRulesRecord(dir: string, rules: readonly Rule[]): void {
  const root = localPath(dir);
  if (root === null) return;
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, FILE), `${JSON.stringify(Object.fromEntries(rules.map((r) => [r.name, ruleFingerprint(r)])), null, 1)}\n`);
}

/** The record in `dir`, or in the folder holding a chk-<n>/savepoint-… path or its _metadata; null when none. */
export function readRulesRecord(path: string): Record<string, string> | null {
  const root = localPath(path);
  if (root === null) return null;
  const candidates = [root, dirname(root), dirname(dirname(root)), dirname(dirname(dirname(root)))];
  for (const dir of candidates) {
    try {
      return JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Record<string, string>;
    } catch {
      // not here: try the folder above (a chk-<n> sits two levels below the job's folder)
    }
  }
  return null;
}

/** Copies the job's record into a savepoint it just took. */
export function copyRulesRecord(fromDir: string, savepoint: string): void {
  const record = readRulesRecord(fromDir);
  const root = localPath(savepoint);
  if (record === null || root === null) return;
  writeFileSync(join(root, FILE), `${JSON.stringify(record, null, 1)}\n`);
}

/**
 * Refuses a restore into other rules, naming what changed: Flink cannot carry the state over rule
 * by rule the way the TS consumer's checkpoints do (docs/flink.md, "Changing the rules").
 */
export function checkRulesUnchanged(record: Record<string, string> | null, rules: readonly Rule[], from: string): void {
  if (record === null) return;
  const now = new Map(rules.map((r) => [r.name, ruleFingerprint(r)]));
  const changed = [...now].filter(([n, f]) => record[n] !== undefined && record[n] !== f).map(([n]) => n);
  const added = [...now.keys()].filter((n) => record[n] === undefined);
  const removed = Object.keys(record).filter((n) => !now.has(n));
  if (changed.length + added.length + removed.length === 0) return;
  const what = [
    changed.length > 0 ? `redefined: ${changed.join(', ')}` : '',
    added.length > 0 ? `new: ${added.join(', ')}` : '',
    removed.length > 0 ? `removed: ${removed.join(', ')}` : '',
  ].filter((s) => s !== '');
  throw new TickflowError(
    'flink_rules_changed',
    `the rules changed since ${from} (${what.join('; ')}); Flink maps saved state by the job's plan, so no rule's state can be carried into other rules — deploy without restoring to start every rule and candle afresh (reading resumes at the offsets the old job committed), or deploy the old rules`,
  );
}
