import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackError } from './stack-error.ts';
import { stackId } from './versions.ts';

/** Where and how the local stack runs. Every field has a flag, an env var and a default. */
export type StackSettings = {
  /** Cache and state folder: jars, configs, data, logs, pid files. */
  dir: string;
  /** Everything binds here; loopback only, by design. */
  host: '127.0.0.1';
  ports: StackPorts;
  /** TaskManager slots (jobs later run with parallelism 2-3; 4 leaves room for a second job). */
  slots: number;
  jobManagerMemory: string;
  taskManagerMemory: string;
  kafkaHeap: string;
  gatewayHeap: string;
  /** Upper bound for each wait: a component becoming healthy, a process exiting. */
  timeoutMs: number;
  /** null: do not check PostgreSQL. */
  databaseUrl: string | null;
};

export type StackPorts = {
  kafka: number;
  kafkaController: number;
  flink: number;
  flinkRpc: number;
  gateway: number;
};

export const defaultPorts: StackPorts = { kafka: 9092, kafkaController: 9093, flink: 8081, flinkRpc: 6123, gateway: 8083 };
export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Flag values as commander hands them over (strings or undefined); env fills the gaps. */
export type StackFlags = {
  dir?: string | undefined;
  kafkaPort?: string | number | undefined;
  kafkaControllerPort?: string | number | undefined;
  flinkPort?: string | number | undefined;
  flinkRpcPort?: string | number | undefined;
  gatewayPort?: string | number | undefined;
  slots?: string | number | undefined;
  timeout?: string | number | undefined;
  databaseUrl?: string | undefined;
  postgres?: boolean | undefined;
};

const port = z.coerce.number().int().min(1).max(65535);
const memory = z.string().regex(/^\d+[mg]$/i);

/** The env var behind each flag, named so a user can find one from the other. */
export const stackEnv = {
  dir: 'TICKFLOW_STACK_DIR',
  kafkaPort: 'TICKFLOW_KAFKA_PORT',
  kafkaControllerPort: 'TICKFLOW_KAFKA_CONTROLLER_PORT',
  flinkPort: 'TICKFLOW_FLINK_PORT',
  flinkRpcPort: 'TICKFLOW_FLINK_RPC_PORT',
  gatewayPort: 'TICKFLOW_GATEWAY_PORT',
  slots: 'TICKFLOW_FLINK_SLOTS',
  timeout: 'TICKFLOW_STACK_TIMEOUT',
  jobManagerMemory: 'TICKFLOW_FLINK_JM_MEMORY',
  taskManagerMemory: 'TICKFLOW_FLINK_TM_MEMORY',
  kafkaHeap: 'TICKFLOW_KAFKA_HEAP',
  gatewayHeap: 'TICKFLOW_GATEWAY_HEAP',
  databaseUrl: 'DATABASE_URL',
} as const;

// Memory sizes are tuning knobs: env only, to keep `--help` short.
const flagNames: Partial<Record<keyof typeof stackEnv, string>> = {
  dir: '--dir',
  kafkaPort: '--kafka-port',
  kafkaControllerPort: '--kafka-controller-port',
  flinkPort: '--flink-port',
  flinkRpcPort: '--flink-rpc-port',
  gatewayPort: '--gateway-port',
  slots: '--slots',
  timeout: '--timeout',
  databaseUrl: '--database-url',
};

export function defaultStackDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cacheHome, 'tickflow', 'stack', stackId());
}

/** flags > env > defaults, validated; a bad value names its flag and env var in one line. */
export function stackSettings(flags: StackFlags = {}, env: NodeJS.ProcessEnv = process.env): StackSettings {
  const pick = (key: keyof typeof stackEnv): string | undefined => {
    const fromFlag = (flags as Record<string, unknown>)[key];
    if (fromFlag !== undefined && fromFlag !== '') return String(fromFlag);
    const fromEnv = env[stackEnv[key]];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  };
  const parse = <T>(key: keyof typeof stackEnv, schema: z.ZodType<T>, what: string, fallback: T): T => {
    const raw = pick(key);
    if (raw === undefined) return fallback;
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    const flag = flagNames[key];
    const source = flag === undefined ? stackEnv[key] : `${flag} / ${stackEnv[key]}`;
    throw new StackError(`${source}: "${raw}" is not ${what}`, 'usage');
  };
  const portOf = (key: keyof typeof stackEnv, fallback: number) =>
    parse(key, port, 'a port number (1-65535)', fallback);

  const ports: StackPorts = {
    kafka: portOf('kafkaPort', defaultPorts.kafka),
    kafkaController: portOf('kafkaControllerPort', defaultPorts.kafkaController),
    flink: portOf('flinkPort', defaultPorts.flink),
    flinkRpc: portOf('flinkRpcPort', defaultPorts.flinkRpc),
    gateway: portOf('gatewayPort', defaultPorts.gateway),
  };
  const used = new Map<number, string>();
  for (const [name, p] of Object.entries(ports)) {
    const other = used.get(p);
    if (other !== undefined) throw new StackError(`ports: ${other} and ${name} are both set to ${p}`, 'usage');
    used.set(p, name);
  }

  const databaseUrl = flags.postgres === false ? null : (pick('databaseUrl') ?? defaultDatabaseUrl);
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new StackError(`--database-url / DATABASE_URL: "${databaseUrl}" is not a postgres:// URL`, 'usage');
  }

  return {
    dir: resolve(pick('dir') ?? defaultStackDir(env)),
    host: '127.0.0.1',
    ports,
    slots: parse('slots', z.coerce.number().int().min(1).max(64), 'a slot count (1-64)', 4),
    jobManagerMemory: parse('jobManagerMemory', memory, 'a size like 1024m or 2g', '1024m'),
    taskManagerMemory: parse('taskManagerMemory', memory, 'a size like 2048m or 2g', '2048m'),
    kafkaHeap: parse('kafkaHeap', memory, 'a size like 512m or 1g', '512m'),
    gatewayHeap: parse('gatewayHeap', memory, 'a size like 768m or 1g', '768m'),
    timeoutMs: parse('timeout', z.coerce.number().min(1).max(3600), 'a number of seconds (1-3600)', 180) * 1000,
    databaseUrl,
  };
}
