import { Command } from 'commander';
import { closeQuietly, connectAdmin } from '../kafka/connect.ts';
import { describeTopics, ensureTopics, listTopics, pipelineTopics } from '../kafka/topics.ts';
import { defaultSpec } from '../spec/spec.ts';
import { TickflowError } from '../tickflow-error.ts';
import { kafkaOptions, kafkaSettingsOf } from './kafka-flags.ts';
import { addSettings, specOf } from './options.ts';

interface TopicsFlags {
  json?: boolean;
}

/** The pipeline's topics come from the spec, like run and flink deploy: --spec/--config, then these flags. */
const TOPIC_KEYS = ['config', 'specFile', 'topic', 'partitions', 'alertsTopic', 'dlqTopic'] as const;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function topicsCommand(): Command {
  const defaults = defaultSpec();
  const cmd = new Command('topics').description('create, list and describe the Kafka topics tickflow uses');

  const create: Command = kafkaOptions(
    addSettings(
      new Command('create').description(
        `create the input topic (${defaults.input.topic}, ${defaults.input.partitions} partitions), ${defaults.topics.alerts} and ${defaults.topics.deadLetters} — or the spec's; existing ones are left as they are`,
      ),
      TOPIC_KEYS,
    ).option('--json', 'print the outcome as JSON'),
  ).action((f: TopicsFlags) => {
    // The spec is checked before the broker is contacted.
    const spec = specOf(create);
    return withAdmin(create, async (admin) => {
      const specs = pipelineTopics({
        input: spec.input.topic,
        partitions: spec.input.partitions,
        alerts: spec.topics.alerts,
        deadLetters: spec.topics.deadLetters,
      });
      const outcome = await ensureTopics(admin, specs);
      if (f.json) return out(JSON.stringify(outcome));
      for (const o of outcome)
        out(`${o.status === 'created' ? 'created' : 'exists '}  ${o.name.padEnd(24)} ${o.partitions} partition(s)${o.note ? ` — ${o.note}` : ''}`);
    });
  });

  const list: Command = kafkaOptions(
    addSettings(new Command('list').description('list topics (internal ones hidden)'), ['config']).option('--json', 'print a JSON array'),
  ).action((f: TopicsFlags) =>
    withAdmin(list, async (admin) => {
      const names = await listTopics(admin);
      if (f.json) return out(JSON.stringify(names));
      for (const n of names) out(n);
    }),
  );

  const describe: Command = kafkaOptions(
    addSettings(
      new Command('describe')
        .description("partitions, leaders, in-sync replicas and offsets of topics (default: the pipeline's three, from the spec)")
        .argument('[topics...]', 'topic names'),
      ['config', 'specFile', 'topic', 'alertsTopic', 'dlqTopic'],
    ).option('--json', 'print JSON'),
  ).action((names: string[], f: TopicsFlags) => {
    const spec = specOf(describe);
    return withAdmin(describe, async (admin) => {
      const wanted = names.length > 0 ? names : [spec.input.topic, spec.topics.alerts, spec.topics.deadLetters];
      const info = await describeTopics(admin, wanted);
      const missing = wanted.filter((n) => !info.some((i) => i.name === n));
      if (f.json) {
        return out(JSON.stringify({ topics: info, missing }, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
      }
      for (const t of info) {
        const total = t.partitions.reduce((s, p) => s + (p.latest - p.earliest), 0n);
        out(`${t.name}  ${t.partitions.length} partition(s), ${total} record(s)`);
        for (const p of t.partitions) {
          out(
            `  partition ${p.partition}  leader ${p.leader}  replicas [${p.replicas.join(',')}]  isr [${p.isr.join(',')}]  offsets ${p.earliest}..${p.latest}`,
          );
        }
      }
      if (missing.length > 0)
        throw new TickflowError(
          'kafka_topic_missing',
          `${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist (create: tickflow topics create)`,
        );
    });
  });

  return cmd.addCommand(create).addCommand(list).addCommand(describe);
}

async function withAdmin(cmd: Command, work: (admin: Awaited<ReturnType<typeof connectAdmin>>) => Promise<void>): Promise<void> {
  const settings = kafkaSettingsOf(cmd);
  const admin = await connectAdmin(settings, 'topics');
  try {
    await work(admin);
  } finally {
    await closeQuietly(admin);
  }
}
