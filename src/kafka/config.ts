import { readFileSync } from 'node:fs';
import type { BaseOptions } from '@platformatic/kafka';

/**
 * Where the broker is and how to talk to it. Flags win over the environment
 * (KAFKA_BROKERS, KAFKA_CLIENT_ID, KAFKA_SASL_*, KAFKA_SSL*), which wins over defaults — the
 * precedence every setting follows.
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

export interface KafkaFlags {
  brokers?: string | undefined;
  clientId?: string | undefined;
  connectTimeout?: number | undefined;
}

export const DEFAULT_BROKERS = '127.0.0.1:9092';
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export type SettingsResult = { ok: true; settings: KafkaSettings } | { ok: false; reason: string };

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export function kafkaSettings(flags: KafkaFlags, env: NodeJS.ProcessEnv = process.env): SettingsResult {
  const brokerList = (flags.brokers ?? env.KAFKA_BROKERS ?? DEFAULT_BROKERS)
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokerList.length === 0) return { ok: false, reason: 'KAFKA_BROKERS / --brokers: no broker given (host:port[,host:port…])' };
  for (const b of brokerList) {
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(b);
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65_535) {
      return { ok: false, reason: `--brokers / KAFKA_BROKERS: "${b}" is not host:port` };
    }
  }
  const connectTimeoutMs = flags.connectTimeout ?? numberEnv(env.KAFKA_CONNECT_TIMEOUT_MS) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs < 100) {
    return { ok: false, reason: `KAFKA_CONNECT_TIMEOUT_MS: "${env.KAFKA_CONNECT_TIMEOUT_MS}" is not a number of milliseconds ≥ 100` };
  }

  let sasl: KafkaSettings['sasl'] = null;
  const mechanism = env.KAFKA_SASL_MECHANISM?.toUpperCase();
  if (mechanism !== undefined && mechanism !== '') {
    if (!(MECHANISMS as readonly string[]).includes(mechanism)) {
      return { ok: false, reason: `KAFKA_SASL_MECHANISM: "${mechanism}" is not one of ${MECHANISMS.join(', ')}` };
    }
    if (!env.KAFKA_SASL_USERNAME || env.KAFKA_SASL_PASSWORD === undefined) {
      return { ok: false, reason: 'KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are needed too' };
    }
    sasl = { mechanism: mechanism as (typeof MECHANISMS)[number], username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD };
  }

  let tls: KafkaSettings['tls'] = null;
  if (truthy(env.KAFKA_SSL) || env.KAFKA_SSL_CA) {
    tls = { rejectUnauthorized: !truthy(env.KAFKA_SSL_INSECURE) };
    if (env.KAFKA_SSL_CA) {
      try {
        tls.ca = readFileSync(env.KAFKA_SSL_CA, 'utf8');
      } catch (e) {
        return { ok: false, reason: `KAFKA_SSL_CA: cannot read "${env.KAFKA_SSL_CA}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
      }
    }
  }

  return {
    ok: true,
    settings: {
      brokers: brokerList,
      clientId: flags.clientId ?? env.KAFKA_CLIENT_ID ?? 'tickflow',
      connectTimeoutMs,
      requestTimeoutMs: Math.max(30_000, connectTimeoutMs),
      sasl,
      tls,
    },
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

function numberEnv(v: string | undefined): number | undefined {
  return v === undefined || v === '' ? undefined : Number(v);
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}
