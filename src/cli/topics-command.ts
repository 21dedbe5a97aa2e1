import { Command, Option } from 'commander';
import { closeQuietly, connectAdmin } from '../kafka/connect.ts';
import { describeTopics, ensureTopics, listTopics, pipelineTopics } from '../kafka/topics.ts';
import { defaultSpec } from '../spec/spec.ts';
import { asUsageErrors, kafkaOptions, resolveKafkaSettings } from './kafka-flags.ts';
import { intFlag } from './parse-flags.ts';

interface TopicsFlags {
  brokers?: string;
  connectTimeout?: number;
  topic?: string;
  partitions?: number;
  alertsTopic?: string;
  dlqTopic?: string;
  json?: boolean;
}

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function topicsCommand(): Command {
  const defaults = defaultSpec();
  const cmd = new Command('topics').description('create, list and describe the Kafka topics tickflow uses');

  const create = kafkaOptions(
    new Command('create')
      .description(`create the input topic (${defaults.input.topic}, ${defaults.input.partitions} partitions), ${defaults.topics.alerts} and ${defaults.topics.deadLetters}; existing ones are left as they are`)
      .addOption(new Option('--topic <name>', `input topic (the seed used "sensors")`).default(defaults.input.topic).env('TICKFLOW_TOPIC'))
      .addOption(new Option('--partitions <n>', 'partitions of the input topic').argParser(intFlag('--partitions', 1, 1000)).default(defaults.input.partitions))
      .addOption(new Option('--alerts-topic <name>', 'alerts topic').default(defaults.topics.alerts))
      .addOption(new Option('--dlq-topic <name>', 'dead-letter topic').default(defaults.topics.deadLetters))
      .option('--json', 'print the outcome as JSON'),
  ).action((f: TopicsFlags) =>
    withAdmin(f, async (admin) => {
      const specs = pipelineTopics({ input: f.topic!, partitions: f.partitions!, alerts: f.alertsTopic!, deadLetters: f.dlqTopic! });
      const outcome = await ensureTopics(admin, specs);
      if (f.json) return out(JSON.stringify(outcome));
      for (const o of outcome) out(`${o.status === 'created' ? 'created' : 'exists '}  ${o.name.padEnd(24)} ${o.partitions} partition(s)${o.note ? ` — ${o.note}` : ''}`);
    }),
  );

  const list = kafkaOptions(new Command('list').description('list topics (internal ones hidden)').option('--json', 'print a JSON array')).action(
    (f: TopicsFlags) =>
      withAdmin(f, async (admin) => {
        const names = await listTopics(admin);
        if (f.json) return out(JSON.stringify(names));
        for (const n of names) out(n);
      }),
  );

  const describe = kafkaOptions(
    new Command('describe')
      .description('partitions, leaders, in-sync replicas and offsets of topics (default: the three pipeline topics)')
      .argument('[topics...]', 'topic names')
      .option('--json', 'print JSON'),
  ).action((names: string[], f: TopicsFlags) =>
    withAdmin(f, async (admin) => {
      const wanted = names.length > 0 ? names : [defaults.input.topic, defaults.topics.alerts, defaults.topics.deadLetters];
      const info = await describeTopics(admin, wanted);
      const missing = wanted.filter((n) => !info.some((i) => i.name === n));
      if (f.json) {
        return out(JSON.stringify({ topics: info, missing }, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
      }
      for (const t of info) {
        const total = t.partitions.reduce((s, p) => s + (p.latest - p.earliest), 0n);
        out(`${t.name}  ${t.partitions.length} partition(s), ${total} record(s)`);
        for (const p of t.partitions) {
          out(`  partition ${p.partition}  leader ${p.leader}  replicas [${p.replicas.join(',')}]  isr [${p.isr.join(',')}]  offsets ${p.earliest}..${p.latest}`);
        }
      }
      for (const m of missing) out(`${m}  (does not exist — tickflow topics create)`);
      if (missing.length > 0) process.exitCode = 1;
    }),
  );

  // Subcommands report bad flags through main's handler (exit 2), like top-level commands.
  return cmd.addCommand(create.exitOverride()).addCommand(list.exitOverride()).addCommand(describe.exitOverride());
}

async function withAdmin(f: TopicsFlags, work: (admin: Awaited<ReturnType<typeof connectAdmin>>) => Promise<void>): Promise<void> {
  const settings = resolveKafkaSettings(f);
  const admin = await asUsageErrors(() => connectAdmin(settings, 'topics'));
  try {
    await work(admin);
  } finally {
    await closeQuietly(admin);
  }
}
