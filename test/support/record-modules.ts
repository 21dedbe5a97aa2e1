/**
 * Loaded with `node --import` into a CLI child: appends the URL of every module the process
 * resolves to the file named by TICKFLOW_TEST_MODULE_LOG, so a test can see what a command loads.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.TICKFLOW_TEST_MODULE_LOG;
if (log !== undefined) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      appendFileSync(log, `${resolved.url}\n`);
      return resolved;
    },
  });
}
