import { Admin, type Base } from '@platformatic/kafka';
import { clientOptions, type KafkaSettings } from './config.ts';
import { isTickflowError } from '../tickflow-error.ts';
import { unavailable } from './errors.ts';

/**
 * Proves the broker answers (a metadata round trip) within the connect timeout. The client's
 * own retries could otherwise keep a command waiting far longer than a user expects.
 */
export async function ensureReachable(client: Base, settings: KafkaSettings, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), settings.connectTimeoutMs);
  });
  try {
    const r = await Promise.race([client.metadata({ topics: [] }).then(() => 'ok' as const), deadline]);
    if (r === 'timeout') {
      throw unavailable(settings, what, new Error(`no answer within ${(settings.connectTimeoutMs / 1000).toFixed(1)} s`));
    }
  } catch (e) {
    if (isTickflowError(e, 'kafka_unreachable')) throw e;
    throw unavailable(settings, what, e);
  } finally {
    clearTimeout(timer);
  }
}

/** An admin client that has already talked to the broker. */
export async function connectAdmin(settings: KafkaSettings, what = 'kafka'): Promise<Admin> {
  const admin = new Admin(clientOptions(settings, 'admin'));
  try {
    await ensureReachable(admin, settings, what);
  } catch (e) {
    await closeQuietly(admin);
    throw e;
  }
  return admin;
}

/** Closing a client whose broker is gone must not turn into the error the user sees. */
export async function closeQuietly(client: { close(): Promise<void> }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.close().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2_000);
    }),
  ]);
  clearTimeout(timer);
}
