import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliEntry, repoRoot } from '../support/cli.ts';

/** A Node older than 24 on this machine (the system's, beside the bundled one), if there is one. */
function oldNode(): string | null {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const v = spawnSync(path, ['--version'], { encoding: 'utf8', env }).stdout.trim();
    if (Number(/^v(\d+)\./.exec(v)?.[1] ?? 99) < 24) return path;
  }
  return null;
}

/** The environment without the options this test runner gives Node, which an old one may refuse. */
const { NODE_OPTIONS: _, ...env } = process.env;

const old = oldNode();

describe('the CLI under an old Node', () => {
  it.skipIf(old === null)(`says in one line that it needs Node 24, exit 2 (${old ?? 'no old Node here'})`, () => {
    const r = spawnSync(old as string, [cliEntry, 'run', '--help'], { cwd: repoRoot, encoding: 'utf8', env });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tickflow needs Node 24 or newer \(found 2?\d\.\d+\.\d+\)\. Run it through npm/)]);
  });
});
