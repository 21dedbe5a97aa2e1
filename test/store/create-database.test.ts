import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/store/create-database.ts';
import { openStore } from '../../src/store/open-store.ts';
import { serverUrl } from '../support/postgres.ts';

const name = `tickflow_created_${randomBytes(4).toString('hex')}`;
const admin = postgres(serverUrl(), { max: 1, onnotice: () => {} });

afterAll(async () => {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

describe('a database tickflow creates', () => {
  it('compares text as bytes (the C collation), keeps the server character classes, and orders ids as JavaScript does', async () => {
    const url = new URL(serverUrl());
    url.pathname = `/${name}`;
    const store = await openStore(url.toString());
    try {
      const [db] = await admin`SELECT datcollate, datctype FROM pg_database WHERE datname = ${name}`;
      const [server] = await admin`SELECT datctype FROM pg_database WHERE datname = 'template0'`;
      expect(db).toEqual({ datcollate: 'C', datctype: server!.datctype });
      const ids = ['b', 'B', 'a-1', 'a_1', 'a.1', 'Z9', 'z', 'é', 'e', 'ß', '10', '9'];
      const rows = await store.query<{ id: string }>('SELECT id FROM unnest($1::varchar[]) AS t(id) ORDER BY id', [ids]);
      expect(rows.map((r) => r.id)).toEqual([...ids].sort());
    } finally {
      await store.close();
    }
  });

  it('is not created twice: the second attempt reports that it exists', async () => {
    await expect(createDatabase(admin, name)).rejects.toMatchObject({ code: '42P04' });
  });
});
