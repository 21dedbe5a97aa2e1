/**
 * `node make-pglite-template.ts TEMPLATE START_PARAMS_JSON`: makes the template of new PGlite
 * databases (pglite-open.ts) in a process of its own, so that what initdb leaves in memory goes
 * with it.
 */
import { PGlite } from '@electric-sql/pglite';
import { saveTemplate } from './pglite-open.ts';

const [template, params] = process.argv.slice(2);
if (template === undefined || params === undefined) throw new Error('usage: make-pglite-template.ts TEMPLATE START_PARAMS_JSON');
const db = await PGlite.create({ startParams: JSON.parse(params) as string[] });
await saveTemplate(db, template);
await db.close();
