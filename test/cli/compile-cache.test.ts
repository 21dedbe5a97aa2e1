import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntry, repoRoot } from '../support/cli.ts';

const cacheHome = mkdtempSync(join(tmpdir(), 'tickflow-compile-cache-'));
afterAll(() => rmSync(cacheHome, { recursive: true, force: true }));

/** `tickflow <args>` with a fresh user cache folder, and what Node says of its compile cache. */
function runLoggingCache(args: string[]): { transpiled: string[]; fromCache: string[] } {
  const { NODE_COMPILE_CACHE: _, ...env } = process.env;
  const r = spawnSync(process.execPath, [cliEntry, ...args], {
    cwd: repoRoot,
    env: { ...env, XDG_CACHE_HOME: cacheHome, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const files = (re: RegExp): string[] => [...r.stderr.matchAll(re)].map((m) => m[1]!);
  return {
    transpiled: files(/saving transpilation cache for StrippedTypeScript (\S+)/g),
    fromCache: files(/retrieving transpile cache for StrippedTypeScript (\S+)\.\.\.success/g),
  };
}

// Node's TypeScript stripper is a WASM module that stays in memory once loaded (≈ 6 MB of npm
// start's RSS, docs/benchmarks.md); it is loaded only when a module is not in the compile cache
// that bin/tickflow.js turns on.
describe("the CLI's compile cache", () => {
  it('lets an embedded run, restart included, find every module of ours the second time', () => {
    const args = ['run', '--count', '100', '--rate', '1000', '--db', 'memory', '--port', '0', '--json'];
    const first = runLoggingCache(args);
    expect(first.transpiled.some((u) => u.endsWith('/src/engine/engine.ts'))).toBe(true);
    const second = runLoggingCache(args);
    expect(second.transpiled).toEqual([]);
    expect(existsSync(join(cacheHome, 'tickflow', 'compile'))).toBe(true);
    expect(second.fromCache).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/src\/cli\/main\.ts$/), expect.stringMatching(/\/src\/store\/pglite-store\.ts$/)]),
    );
  });
});
