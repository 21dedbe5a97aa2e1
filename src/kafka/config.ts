import { readFileSync } from 'node:fs';
import type { BaseOptions } from '@platformatic/kafka';
import type { ConfigFile } from '../config/config-file.ts';
import { type Layers, resolveSettings } from '../config/resolve.ts';
import { isTickflowError, TickflowError } from '../tickflow-error.ts';

/**
 * Where the broker is and how to talk to it: the Kafka settings of src/config/settings.ts
 * (--brokers/KAFKA_BROKERS, KAFKA_CLIENT_ID, KAFKA_SASL_*, KAFKA_SSL*, and the config file's
 * "kafka" section), checked for consistency.
 */
export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Bound on reaching the broker at start: a dead broker is an error, not a hang. */
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly sasl: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string } | null;
  readonly tls: { ca?: string; rejectUnauthorized: boolean } | null;
}

/** For library callers and tests: text as typed on a command line. */
export interface KafkaFlags {
  brokers?: string | undefined;
  /** Seconds, like --connect-timeout. */
  connectTimeout?: string | undefined;
}

export type SettingsResult = { ok: true; settings: KafkaSettings } | { ok: false; reason: string };

export function kafkaSettings(flags: KafkaFlags, env: NodeJS.ProcessEnv = process.env, file?: ConfigFile): SettingsResult {
  try {
    return {
      ok: true,
      settings: kafkaSettingsFrom({ flags: { brokers: flags.brokers, connectTimeout: flags.connectTimeout }, env, ...(file ? { file } : {}) }),
    };
  } catch (e) {
    if (isTickflowError(e)) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Resolves and checks the Kafka settings; a problem is a bad_config/bad_flag TickflowError. */
export function kafkaSettingsFrom(layers: Layers): KafkaSettings {
  const k = resolveSettings(
    [
      'brokers',
      'connectTimeout',
      'kafkaClientId',
      'kafkaSaslMechanism',
      'kafkaSaslUsername',
      'kafkaSaslPassword',
      'kafkaSsl',
      'kafkaSslCa',
      'kafkaSslInsecure',
    ],
    layers,
  );
  let sasl: KafkaSettings['sasl'] = null;
  if (k.kafkaSaslMechanism !== undefined) {
    if (k.kafkaSaslUsername === undefined || k.kafkaSaslPassword === undefined) {
      throw new TickflowError('bad_config', 'KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are needed too');
    }
    sasl = { mechanism: k.kafkaSaslMechanism, username: k.kafkaSaslUsername, password: k.kafkaSaslPassword };
  }
  let tls: KafkaSettings['tls'] = null;
  if (k.kafkaSsl || k.kafkaSslCa !== undefined) {
    tls = { rejectUnauthorized: !k.kafkaSslInsecure };
    if (k.kafkaSslCa !== undefined) {
      try {
        tls.ca = readFileSync(k.kafkaSslCa, 'utf8');
      } catch (e) {
        throw new TickflowError('bad_config', `KAFKA_SSL_CA: cannot read "${k.kafkaSslCa}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
  }
  return {
    brokers: k.brokers,
    clientId: k.kafkaClientId,
    connectTimeoutMs: k.connectTimeout,
    requestTimeoutMs: Math.max(30_000, k.connectTimeout),
    sasl,
    tls,
  };
}

/** Options every platformatic client (admin, producer, consumer) shares. */
export function clientOptions(s: KafkaSettings, role: string): BaseOptions {
  const o: BaseOptions = {
    clientId: `${s.clientId}-${role}`,
    bootstrapBrokers: [...s.brokers],
    connectTimeout: s.connectTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    // The library retries each operation; we bound the whole connect ourselves (connect.ts),
    // so a few quick retries suffice here.
    retries: 3,
    retryDelay: 250,
  };
  if (s.sasl !== null) o.sasl = { ...s.sasl };
  if (s.tls !== null) o.tls = { ...s.tls };
  return o;
}
