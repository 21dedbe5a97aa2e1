import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntry, repoRoot } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The modules `tickflow <args>` resolved, as URLs (the process's re-exec included). */
function modulesLoadedBy(name: string, args: string[]): string[] {
  const log = join(dir, `${name}.log`);
  const r = spawnSync(process.execPath, ['--import', join(repoRoot, 'test/support/record-modules.ts'), cliEntry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, TICKFLOW_TEST_MODULE_LOG: log },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, 'utf8').trim().split('\n');
}

const kafkaClient = (url: string): boolean => url.includes('/node_modules/@platformatic/kafka/');
const postgresDriver = (url: string): boolean => url.includes('/node_modules/postgres/');

// The Kafka client and the PostgreSQL driver are ≈ 65 MB of an embedded run's memory
// (docs/benchmarks.md): `npm start` must not load them.
describe('what a command loads', () => {
  it('an embedded run with its dashboard loads neither the Kafka client nor the PostgreSQL driver', () => {
    const urls = modulesLoadedBy('run', ['run', '--count', '200', '--rate', 'max', '--db', 'memory', '--port', '0', '--json']);
    expect(urls.some((u) => u.includes('/node_modules/@electric-sql/pglite/'))).toBe(true);
    expect(urls.some((u) => u.includes('/src/server/'))).toBe(true);
    expect(urls.filter(kafkaClient)).toEqual([]);
    expect(urls.filter(postgresDriver)).toEqual([]);
  });

  it('a Kafka command does load the Kafka client (the probe sees it)', () => {
    const urls = modulesLoadedBy('produce', ['produce', '--help']);
    expect(urls.some(kafkaClient)).toBe(true);
  });
});
