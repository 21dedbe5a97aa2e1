import type { Command } from 'commander';
import { kafkaSettingsFrom, type KafkaSettings } from '../kafka/config.ts';
import { addSettings, layersOf } from './options.ts';

/** --brokers and --connect-timeout, shared by every command that talks to Kafka. */
export function kafkaOptions(cmd: Command): Command {
  return addSettings(cmd, ['brokers', 'connectTimeout']);
}

export function kafkaSettingsOf(cmd: Command): KafkaSettings {
  return kafkaSettingsFrom(layersOf(cmd));
}
