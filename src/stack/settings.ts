import { join, resolve } from 'node:path';
import type { ConfigFile } from '../config/config-file.ts';
import { defaultPorts } from '../config/ports.ts';
import { userCacheDir } from '../config/user-cache.ts';
import { type Layers, resolveSettings } from '../config/resolve.ts';
import { stackError } from './stack-error.ts';
import { stackId } from './versions.ts';

/** Where and how the local stack runs. Every field is a setting of src/config/settings.ts. */
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

export { defaultPorts };

/** Flag values as typed (text or numbers from tests); the environment and config file fill the gaps. */
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

export function defaultStackDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(userCacheDir(env), 'stack', stackId());
}

/** The stack's settings of src/config/settings.ts: flags > env > config file > defaults. */
export function stackSettings(flags: StackFlags = {}, env: NodeJS.ProcessEnv = process.env, file?: ConfigFile): StackSettings {
  const text = (v: string | number | undefined): string | undefined => (v === undefined || v === '' ? undefined : String(v));
  return stackSettingsFrom(
    {
      flags: {
        stackDir: text(flags.dir),
        kafkaPort: text(flags.kafkaPort),
        kafkaControllerPort: text(flags.kafkaControllerPort),
        flinkPort: text(flags.flinkPort),
        flinkRpcPort: text(flags.flinkRpcPort),
        gatewayPort: text(flags.gatewayPort),
        slots: text(flags.slots),
        stackTimeout: text(flags.timeout),
        stackDatabaseUrl: text(flags.databaseUrl),
      },
      env,
      ...(file ? { file } : {}),
    },
    { postgres: flags.postgres },
  );
}

export function stackSettingsFrom(layers: Layers, o: { postgres?: boolean | undefined } = {}): StackSettings {
  const env = layers.env ?? {};
  const s = resolveSettings(
    [
      'stackDir',
      'kafkaPort',
      'kafkaControllerPort',
      'flinkPort',
      'flinkRpcPort',
      'gatewayPort',
      'slots',
      'stackTimeout',
      'stackDatabaseUrl',
      'jobManagerMemory',
      'taskManagerMemory',
      'kafkaHeap',
      'gatewayHeap',
    ],
    layers,
  );
  const ports: StackPorts = {
    kafka: s.kafkaPort,
    kafkaController: s.kafkaControllerPort,
    flink: s.flinkPort,
    flinkRpc: s.flinkRpcPort,
    gateway: s.gatewayPort,
  };
  const used = new Map<number, string>();
  for (const [name, p] of Object.entries(ports)) {
    const other = used.get(p);
    if (other !== undefined) throw stackError(`ports: ${other} and ${name} are both set to ${p}`, 'usage');
    used.set(p, name);
  }
  return {
    dir: resolve(s.stackDir ?? defaultStackDir(env)),
    host: '127.0.0.1',
    ports,
    slots: s.slots,
    jobManagerMemory: s.jobManagerMemory,
    taskManagerMemory: s.taskManagerMemory,
    kafkaHeap: s.kafkaHeap,
    gatewayHeap: s.gatewayHeap,
    timeoutMs: s.stackTimeout,
    databaseUrl: o.postgres === false ? null : s.stackDatabaseUrl,
  };
}
