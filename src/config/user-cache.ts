import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * tickflow's folder in the user's cache (XDG_CACHE_HOME, else ~/.cache): the PGlite template,
 * the assembled stacks, and Node's compile cache (bin/tickflow.js computes the same folder
 * itself: it must not load a TypeScript module before that cache is on).
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tickflow');
}
