import { Option, type Command } from 'commander';
import { kafkaSettings, type KafkaFlags, type KafkaSettings } from '../kafka/config.ts';
import { KafkaUnavailableError } from '../kafka/errors.ts';
import { secondsFlag } from './parse-flags.ts';
import { UsageError } from './usage-error.ts';

/** --brokers and --connect-timeout, shared by every command that talks to Kafka. */
export function kafkaOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--brokers <list>', 'Kafka bootstrap servers host:port[,…] (default 127.0.0.1:9092; env KAFKA_BROKERS)'))
    .addOption(
      new Option('--connect-timeout <seconds>', 'give up reaching the broker after this long (default 10)').argParser(
        secondsFlag('--connect-timeout'),
      ),
    );
}

export function resolveKafkaSettings(flags: { brokers?: string; connectTimeout?: number }): KafkaSettings {
  const f: KafkaFlags = {};
  if (flags.brokers !== undefined) f.brokers = flags.brokers;
  if (flags.connectTimeout !== undefined) f.connectTimeout = flags.connectTimeout;
  const r = kafkaSettings(f, process.env);
  if (!r.ok) throw new UsageError(r.reason);
  return r.settings;
}

/** An unreachable broker is something the user fixes: one line, exit code 2. */
export async function asUsageErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof KafkaUnavailableError) throw new UsageError(e.message);
    throw e;
  }
}
