#!/usr/bin/env node
// Node 24 runs our TypeScript sources directly (type stripping), so there is no build step.
// The default import: a named one that an old Node lacks fails before the version check below.
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `tickflow needs Node 24 or newer (found ${process.versions.node}). Run it through npm (npx tickflow / npm run tickflow), which uses the bundled Node 24.`,
  );
  process.exit(2);
}
// Node keeps each module's stripped JavaScript (and V8's code cache) here, keyed by the source's
// content, so an edit is picked up at once. When every module is found there, Node never loads
// its TypeScript stripper, whose WASM stays in memory (≈ 6 MB of npm start's RSS). Node keeps a
// folder per set of V8 flags, so the embedded run (restarted with its own, run-command.ts) finds
// its modules from its second run on. NODE_COMPILE_CACHE chooses another folder,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
if (!process.env.NODE_COMPILE_CACHE) {
  // src/config/user-cache.ts's folder, computed here without loading TypeScript.
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  module.enableCompileCache(join(cache, 'tickflow', 'compile'));
} else module.enableCompileCache();
await import('../src/cli/main.ts');
