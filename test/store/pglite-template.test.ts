import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTemplateApart, openPGlite, startParamsFor, templatePath } from '../../src/store/pglite-open.ts';

// A new embedded database starts from a template of an empty cluster kept in the user's cache;
// the first one on a machine has it made by a process of its own (for the footprint: see the
// bench's first-run npm start row).
const root = mkdtempSync(join(tmpdir(), 'tickflow-pglite-template-'));
const savedCache = process.env.XDG_CACHE_HOME;
beforeAll(() => {
  process.env.XDG_CACHE_HOME = join(root, 'cache');
});
afterAll(() => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  rmSync(root, { recursive: true, force: true });
});

async function usable(db: PGlite): Promise<void> {
  try {
    await db.exec('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);');
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 2 }]);
  } finally {
    await db.close();
  }
}

const isGzip = (path: string): boolean => {
  const head = readFileSync(path).subarray(0, 2);
  return head[0] === 0x1f && head[1] === 0x8b;
};

describe('the PGlite template', () => {
  it('is made by a process of its own, and every new database then starts from it unchanged', async () => {
    // openPGlite makes it this way when it is missing; called directly, a failure of the child
    // process cannot hide behind the caller's own initdb (which only costs memory: pglite-open.ts).
    const template = templatePath();
    expect(template.startsWith(join(root, 'cache'))).toBe(true);
    await makeTemplateApart(template, startParamsFor('footprint'));
    expect(isGzip(template)).toBe(true);
    const made = statSync(template).mtimeMs;
    await usable(await openPGlite(join(root, 'first'), 'footprint'));
    await usable(await openPGlite(join(root, 'second'), 'speed'));
    await usable(await openPGlite(null, 'footprint'));
    expect(statSync(template).mtimeMs).toBe(made);
  });

  it('when damaged, is not used: the database is made by initdb and the template replaced', async () => {
    const template = templatePath();
    writeFileSync(template, 'not a tarball');
    await usable(await openPGlite(join(root, 'after-damage'), 'footprint'));
    expect(isGzip(template)).toBe(true);
  });

  it('reopens an existing database as it is, whatever the template holds', async () => {
    const dir = join(root, 'kept');
    const db = await openPGlite(dir, 'footprint');
    await db.exec('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$);');
    await db.close();
    writeFileSync(templatePath(), 'not a tarball');
    const again = await openPGlite(dir, 'footprint');
    try {
      expect((await again.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
    } finally {
      await again.close();
    }
  });
});
