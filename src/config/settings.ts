import { parseTarget } from '../alerts/forward/target.ts';
import { defaultPorts } from './ports.ts';
import * as p from './parsers.ts';

/**
 * Every setting tickflow reads, declared once: its flag, environment variable(s), config-file
 * key (or the field of the pipeline spec it overrides), default and validation. Precedence is
 * the same for all of them — flag > environment > config file > default — and is applied by
 * `resolveSettings` (./resolve.ts); `--help` is generated from these declarations
 * (src/cli/options.ts). Flags that only steer one invocation (--json, --count, --limit…) are
 * declared with their command instead.
 */
export interface Setting<T> {
  /** Commander syntax ("--db <url>"); absent: environment and config file only. */
  readonly flag?: string;
  /** Environment variables, first set wins. */
  readonly env?: readonly string[];
  /** Key in the config file, dotted ("dashboard.port"). */
  readonly file?: string;
  /**
   * Field of the pipeline spec this setting overrides. The spec itself (--spec FILE, or the
   * config file's "spec" section) is its file layer, and the spec's defaults are its default.
   */
  readonly spec?: readonly [string, ...string[]];
  readonly help: string;
  readonly default?: T | ((env: NodeJS.ProcessEnv) => T);
  /** How --help shows a computed or long default. */
  readonly defaultText?: string;
  readonly parse: p.Parser<T>;
  /** Values from the environment and the config file, where their unit differs from the flag's. */
  readonly parseStored?: p.Parser<T>;
  /** Never echoed in an error message (passwords, tokens, URLs with credentials). */
  readonly secret?: boolean;
}

// Keeps each declaration's own type, so a setting with a default resolves to a defined value.
function setting<S extends Setting<unknown>>(s: S): S {
  return s;
}

const localUrl =
  (envPort: string, fallback: number) =>
  (env: NodeJS.ProcessEnv): string => {
    const n = Number(env[envPort]);
    return `http://127.0.0.1:${Number.isInteger(n) && n > 0 && n < 65_536 ? n : fallback}`;
  };

export const SETTINGS = {
  // ── where settings come from ────────────────────────────────────────────────────────────
  config: setting({
    flag: '--config <file>',
    env: ['TICKFLOW_CONFIG'],
    help: 'JSON config file',
    defaultText: './tickflow.config.json when present',
    parse: p.text,
  }),
  specFile: setting({
    flag: '--spec <file>',
    env: ['TICKFLOW_SPEC'],
    help: 'pipeline spec JSON (see `tickflow spec`); replaces the config file\'s "spec"',
    parse: p.text,
  }),

  rulesFile: setting({
    flag: '--rules <file>',
    env: ['TICKFLOW_RULES'],
    file: 'rulesFile',
    help: 'alert rules JSON ({"rules": [ … ]}, see docs/rules.md and `tickflow rules check`); replaces the spec\'s "rules"',
    parse: p.text,
  }),

  // ── the pipeline spec (both engines) ────────────────────────────────────────────────────
  topic: setting({
    flag: '--topic <name>',
    env: ['TICKFLOW_TOPIC'],
    spec: ['input', 'topic'],
    help: 'input topic (the seed project used "sensors")',
    parse: p.text,
  }),
  partitions: setting({ flag: '--partitions <n>', spec: ['input', 'partitions'], help: 'partitions of the input topic', parse: p.integer(1, 1000) }),
  alertsTopic: setting({ flag: '--alerts-topic <name>', spec: ['topics', 'alerts'], help: 'alerts topic', parse: p.text }),
  dlqTopic: setting({ flag: '--dlq-topic <name>', spec: ['topics', 'deadLetters'], help: 'dead-letter topic', parse: p.text }),
  threshold: setting({
    flag: '--threshold <n>',
    env: ['TICKFLOW_THRESHOLD'],
    spec: ['rules', 'large', 'threshold'],
    help: 'threshold of the rule named "large" (a large_trade rule, one of the two built in): alert when volume > n',
    parse: p.integer(0, 2_147_483_647),
  }),
  spikeFactor: setting({
    flag: '--spike-factor <k>',
    spec: ['rules', 'spike', 'factor'],
    help: 'factor of the rule named "spike" (a volume_spike rule, one of the two built in): alert when volume > k × the recent mean',
    parse: p.decimal(1, 1000),
  }),
  spikeLookback: setting({
    flag: '--spike-lookback <n>',
    spec: ['rules', 'spike', 'lookback'],
    help: 'trades in the baseline of the rule named "spike"',
    parse: p.integer(1, 10_000),
  }),
  outOfOrderness: setting({
    flag: '--out-of-orderness <seconds>',
    spec: ['input', 'outOfOrdernessMs'],
    help: 'how late a trade may arrive and still count, in seconds',
    parse: p.seconds(),
  }),
  candleInterval: setting({ flag: '--candle-interval <seconds>', spec: ['candles', 'intervalMs'], help: 'candle length in seconds', parse: p.seconds() }),

  // ── the embedded run ────────────────────────────────────────────────────────────────────
  source: setting({
    flag: '--source <source>',
    env: ['TICKFLOW_SOURCE'],
    file: 'source',
    default: 'sim',
    help: 'sim (market simulator) | file:PATH (JSONL, "file:-" for stdin) | kafka (consumer group on --topic)',
    parse: p.text,
  }),
  db: setting({
    flag: '--db <url>',
    env: ['TICKFLOW_DB', 'DATABASE_URL'],
    file: 'db',
    default: 'pglite:./.tickflow/pgdata',
    help: 'database: postgres://user@host:5432/db | pglite:DIR | memory',
    parse: p.text,
    secret: true,
  }),
  rate: setting({
    flag: '--rate <n>',
    env: ['TICKFLOW_RATE'],
    file: 'rate',
    default: 1000,
    help: 'simulator trades per second at the open and close (a third of it at midday: docs/simulator.md), or "max"',
    parse: p.rate,
  }),
  seed: setting({
    flag: '--seed <n>',
    env: ['TICKFLOW_SEED'],
    file: 'seed',
    defaultText: 'from the clock',
    help: 'simulator seed (same seed, same market)',
    parse: p.integer(0, 2 ** 32 - 1),
  }),
  tickers: setting({
    flag: '--tickers <list>',
    env: ['TICKFLOW_TICKERS'],
    file: 'tickers',
    defaultText: "the simulator's eight",
    help: 'simulator tickers, comma-separated',
    parse: p.tickers,
  }),
  group: setting({
    flag: '--group <id>',
    env: ['TICKFLOW_GROUP'],
    file: 'kafka.group',
    default: 'tickflow',
    help: 'with --source kafka: consumer group (processes in one group share partitions)',
    parse: p.text,
  }),

  // ── the dashboard ───────────────────────────────────────────────────────────────────────
  port: setting({
    flag: '--port <n>',
    env: ['TICKFLOW_PORT'],
    file: 'dashboard.port',
    default: 3000,
    help: 'dashboard port (0: any free one; the default moves to a free one when taken)',
    parse: p.listenPort,
  }),
  host: setting({
    flag: '--host <addr>',
    env: ['TICKFLOW_HOST'],
    file: 'dashboard.host',
    default: '127.0.0.1',
    help: 'dashboard address (off loopback needs --token)',
    parse: p.text,
  }),
  token: setting({
    flag: '--token <secret>',
    env: ['TICKFLOW_TOKEN'],
    file: 'dashboard.token',
    help: 'require this token (Bearer header, or open /?token=…)',
    parse: (v) => v,
    secret: true,
  }),

  // ── Kafka clients ───────────────────────────────────────────────────────────────────────
  brokers: setting({
    flag: '--brokers <list>',
    env: ['KAFKA_BROKERS'],
    file: 'kafka.brokers',
    default: ['127.0.0.1:9092'],
    defaultText: '127.0.0.1:9092',
    help: 'Kafka bootstrap servers host:port[,…]',
    parse: p.brokerList,
  }),
  connectTimeout: setting({
    flag: '--connect-timeout <seconds>',
    env: ['KAFKA_CONNECT_TIMEOUT_MS'],
    file: 'kafka.connectTimeoutMs',
    default: 10_000,
    defaultText: '10 s',
    help: 'give up reaching the broker after this long (the variable and file key in ms)',
    parse: p.seconds(0.1, 3600),
    parseStored: p.integer(100, 3_600_000),
  }),
  heartbeatInterval: setting({
    flag: '--interval <seconds>',
    env: ['TICKFLOW_HEARTBEAT_INTERVAL_MS'],
    file: 'heartbeat.intervalMs',
    default: 1_000,
    defaultText: '1 s',
    help: 'tickflow heartbeat: how often it looks at the partitions and, when all are idle, writes a heartbeat to each (the variable and file key in ms)',
    parse: p.seconds(0.05, 3600),
    parseStored: p.integer(50, 3_600_000),
  }),
  kafkaClientId: setting({ env: ['KAFKA_CLIENT_ID'], file: 'kafka.clientId', default: 'tickflow', help: 'client id prefix the broker sees', parse: p.text }),
  kafkaSaslMechanism: setting({
    env: ['KAFKA_SASL_MECHANISM'],
    file: 'kafka.sasl.mechanism',
    help: 'SASL mechanism',
    parse: p.oneOf(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], (v) => v.toUpperCase()),
  }),
  kafkaSaslUsername: setting({ env: ['KAFKA_SASL_USERNAME'], file: 'kafka.sasl.username', help: 'SASL user', parse: p.text }),
  kafkaSaslPassword: setting({ env: ['KAFKA_SASL_PASSWORD'], file: 'kafka.sasl.password', help: 'SASL password', parse: (v) => v, secret: true }),
  kafkaSsl: setting({ env: ['KAFKA_SSL'], file: 'kafka.ssl', default: false, help: 'TLS to the brokers', parse: p.yesNo }),
  kafkaSslCa: setting({ env: ['KAFKA_SSL_CA'], file: 'kafka.sslCa', help: 'CA certificate file (PEM) for TLS; implies KAFKA_SSL', parse: p.text }),
  kafkaSslInsecure: setting({
    env: ['KAFKA_SSL_INSECURE'],
    file: 'kafka.sslInsecure',
    default: false,
    help: "TLS without verifying the broker's certificate",
    parse: p.yesNo,
  }),

  // ── tickflow alerts forward, tickflow run --forward ─────────────────────────────────────
  forwardTo: setting({
    flag: '--to <target>',
    env: ['TICKFLOW_FORWARD_TO'],
    file: 'forward.to',
    help: "where alerts go: webhook:URL (each alert's JSON, one POST each) | slack:URL (Slack incoming-webhook text)",
    parse: parseTarget,
    secret: true,
  }),
  runForward: setting({
    flag: '--forward <target>',
    env: ['TICKFLOW_RUN_FORWARD'],
    file: 'run.forward',
    help: 'send each alert this run stores to webhook:URL (its JSON) | slack:URL, at least once, without Kafka (the database keeps what is still to send)',
    parse: parseTarget,
    secret: true,
  }),
  forwardGroup: setting({
    flag: '--group <id>',
    env: ['TICKFLOW_FORWARD_GROUP'],
    file: 'forward.group',
    default: 'tickflow-forward',
    help: "consumer group that stores the forwarder's position (one per destination)",
    parse: p.text,
  }),
  forwardMaxPerMinute: setting({
    flag: '--max-per-minute <n>',
    env: ['TICKFLOW_FORWARD_MAX_PER_MINUTE'],
    file: 'forward.maxPerMinute',
    default: 30,
    help: 'alerts forwarded one by one per minute; the rest of that minute go out as one summary',
    parse: p.integer(1, 100_000),
  }),
  forwardMaxOutage: setting({
    flag: '--max-outage <seconds>',
    env: ['TICKFLOW_FORWARD_MAX_OUTAGE_MS'],
    file: 'forward.maxOutageMs',
    defaultText: 'for ever',
    help: 'exit 1 (forward_failed) when the endpoint has failed this long without a success; a run stops first, storing what it read (the variable and file key in ms)',
    parse: p.seconds(1, 31_536_000),
    parseStored: p.integer(1_000, 31_536_000_000),
  }),

  // ── the Flink job ───────────────────────────────────────────────────────────────────────
  gateway: setting({
    flag: '--gateway <url>',
    env: ['TICKFLOW_FLINK_GATEWAY'],
    file: 'flink.gateway',
    default: localUrl('TICKFLOW_GATEWAY_PORT', defaultPorts.gateway),
    defaultText: `http://127.0.0.1:${defaultPorts.gateway}, or TICKFLOW_GATEWAY_PORT`,
    help: 'Flink SQL Gateway',
    parse: p.httpUrl,
  }),
  flinkUrl: setting({
    flag: '--flink-url <url>',
    env: ['TICKFLOW_FLINK_URL'],
    file: 'flink.url',
    default: localUrl('TICKFLOW_FLINK_PORT', defaultPorts.flink),
    defaultText: `http://127.0.0.1:${defaultPorts.flink}, or TICKFLOW_FLINK_PORT`,
    help: 'Flink REST API / web UI',
    parse: p.httpUrl,
  }),
  job: setting({ flag: '--job <name>', env: ['TICKFLOW_FLINK_JOB'], file: 'flink.job', default: 'tickflow', help: 'Flink job name', parse: p.text }),
  jobDb: setting({
    flag: '--db <url>',
    env: ['TICKFLOW_DB', 'DATABASE_URL'],
    file: 'db',
    default: 'postgres://postgres@127.0.0.1:5432/tickflow',
    help: 'PostgreSQL the Flink job writes to',
    parse: p.postgresUrl,
    secret: true,
  }),
  jobGroup: setting({
    flag: '--group <id>',
    file: 'flink.group',
    defaultText: 'the job name + "-flink"',
    help: 'Kafka consumer group of the Flink job',
    parse: p.text,
  }),
  parallelism: setting({
    flag: '--parallelism <n>',
    file: 'flink.parallelism',
    defaultText: 'the input partitions',
    help: 'job parallelism (fewer than the partitions makes candles and spikes unreliable while the job catches up, see docs/flink.md)',
    parse: p.integer(1, 256),
  }),

  // ── the local stack (tickflow stack) ────────────────────────────────────────────────────
  stackDir: setting({
    flag: '--dir <path>',
    env: ['TICKFLOW_STACK_DIR'],
    file: 'stack.dir',
    defaultText: '~/.cache/tickflow/stack/<versions>',
    help: 'stack folder: jars, configs, data, logs, pids',
    parse: p.text,
  }),
  kafkaPort: setting({
    flag: '--kafka-port <port>',
    env: ['TICKFLOW_KAFKA_PORT'],
    file: 'stack.kafkaPort',
    default: defaultPorts.kafka,
    help: 'Kafka broker port',
    parse: p.port,
  }),
  kafkaControllerPort: setting({
    flag: '--kafka-controller-port <port>',
    env: ['TICKFLOW_KAFKA_CONTROLLER_PORT'],
    file: 'stack.kafkaControllerPort',
    default: defaultPorts.kafkaController,
    help: 'KRaft controller port',
    parse: p.port,
  }),
  flinkPort: setting({
    flag: '--flink-port <port>',
    env: ['TICKFLOW_FLINK_PORT'],
    file: 'stack.flinkPort',
    default: defaultPorts.flink,
    help: 'Flink REST + web UI port',
    parse: p.port,
  }),
  flinkRpcPort: setting({
    flag: '--flink-rpc-port <port>',
    env: ['TICKFLOW_FLINK_RPC_PORT'],
    file: 'stack.flinkRpcPort',
    default: defaultPorts.flinkRpc,
    help: 'JobManager RPC port',
    parse: p.port,
  }),
  gatewayPort: setting({
    flag: '--gateway-port <port>',
    env: ['TICKFLOW_GATEWAY_PORT'],
    file: 'stack.gatewayPort',
    default: defaultPorts.gateway,
    help: 'SQL Gateway REST port',
    parse: p.port,
  }),
  slots: setting({ flag: '--slots <n>', env: ['TICKFLOW_FLINK_SLOTS'], file: 'stack.slots', default: 4, help: 'TaskManager slots', parse: p.integer(1, 64) }),
  stackTimeout: setting({
    flag: '--timeout <seconds>',
    env: ['TICKFLOW_STACK_TIMEOUT'],
    file: 'stack.timeoutSeconds',
    default: 180_000,
    defaultText: '180',
    help: 'bound for each wait (a component becoming healthy, a process exiting)',
    parse: p.seconds(1, 3600),
  }),
  stackDatabaseUrl: setting({
    flag: '--database-url <url>',
    env: ['DATABASE_URL'],
    file: 'stack.databaseUrl',
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    help: 'PostgreSQL to check; the tickflow database is created there',
    parse: p.postgresUrl,
    secret: true,
  }),
  jobManagerMemory: setting({
    env: ['TICKFLOW_FLINK_JM_MEMORY'],
    file: 'stack.jobManagerMemory',
    default: '1024m',
    help: 'JobManager process memory',
    parse: p.memory,
  }),
  taskManagerMemory: setting({
    env: ['TICKFLOW_FLINK_TM_MEMORY'],
    file: 'stack.taskManagerMemory',
    default: '2048m',
    help: 'TaskManager process memory',
    parse: p.memory,
  }),
  kafkaHeap: setting({ env: ['TICKFLOW_KAFKA_HEAP'], file: 'stack.kafkaHeap', default: '512m', help: 'Kafka broker heap', parse: p.memory }),
  gatewayHeap: setting({ env: ['TICKFLOW_GATEWAY_HEAP'], file: 'stack.gatewayHeap', default: '768m', help: 'SQL Gateway heap', parse: p.memory }),
  javaHome: setting({ env: ['TICKFLOW_JAVA_HOME', 'JAVA_HOME'], help: 'JDK (17 or newer) the stack runs on; default: java on the PATH', parse: p.text }),
  mvn: setting({
    env: ['TICKFLOW_MVN'],
    default: 'mvn',
    help: "Maven command (needed once, to fetch the stack's jars and build the parser function)",
    parse: p.text,
  }),

  // ── diagnostics ─────────────────────────────────────────────────────────────────────────
  debug: setting({ env: ['TICKFLOW_DEBUG'], default: false, help: 'print the stack trace of an unexpected failure', parse: p.yesNo }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['parse']>;
/** What resolving yields: always a value when the setting has a default. */
export type Resolved<K extends SettingKey> = 'default' extends keyof (typeof SETTINGS)[K] ? SettingValue<K> : SettingValue<K> | undefined;
