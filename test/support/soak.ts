/**
 * The reliability suite has two sizes: the fast subset that `npm test` (and CI) runs, and the
 * soak that `npm run test:soak` runs (TICKFLOW_SOAK=1): longer outages, more kills, more data.
 * Both assert the same outcomes; only the amounts differ.
 */
export const soak = process.env.TICKFLOW_SOAK === '1';

/** `fast` in the default run, `long` in the soak. */
export function bySize<T>(fast: T, long: T): T {
  return soak ? long : fast;
}
