/**
 * Vitest global setup for tests that need Kafka + Flink: starts the local stack once per run
 * (or reuses one that is already running) and stops it at the end — even when tests fail,
 * because vitest always calls the returned teardown. A stack that was already running before
 * the run (a developer's) is left running.
 */
import { stackSettings } from '../../src/stack/settings.ts';
import { stackDown, stackStatus, stackUp } from '../../src/stack/stack.ts';
import { isTickflowError } from '../../src/tickflow-error.ts';

const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);

export default async function setup(): Promise<() => Promise<void>> {
  const settings = stackSettings({}, process.env);
  const wasRunning = (await stackStatus(settings)).every((c) => c.healthy);
  try {
    const result = await stackUp(settings, log);
    log(result.started.length === 0 ? `reusing the running stack in ${settings.dir}` : `stack up in ${result.seconds} s (${settings.dir})`);
  } catch (error) {
    if (isTickflowError(error)) {
      // Vitest prints a stack trace for a thrown setup error; the details are what matter.
      log(`stack up failed: ${error.message}`);
      for (const line of error.details) log(`  ${line}`);
    }
    await stackDown(settings, {}, log).catch(() => {});
    throw error;
  }
  return async () => {
    if (wasRunning && process.env.CI !== 'true') {
      log('leaving the stack running (it was running before the tests)');
      return;
    }
    await stackDown(settings, {}, log);
  };
}
