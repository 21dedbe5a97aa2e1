import { Command } from 'commander';
import { resolveSetting } from '../config/resolve.ts';
import { HeartbeatWriter } from '../kafka/heartbeat-writer.ts';
import { kafkaOptions, kafkaSettingsOf } from './kafka-flags.ts';
import { addSettings, layersOf, SPEC_SOURCE_KEYS, specOf } from './options.ts';

const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * `tickflow heartbeat`: runs until Ctrl-C, writing heartbeat records to the input topic's
 * partitions while every one of them is idle, so the Flink job's windows close when trading
 * stops (docs/flink.md#heartbeats).
 */
export function heartbeatCommand(): Command {
  const cmd: Command = kafkaOptions(
    addSettings(
      new Command('heartbeat').description(
        "keep event time moving while the input topic is idle: once every partition has been silent for the spec's idle timeout, write a heartbeat to each, at its newest event time + the time it has been idle (the Flink job needs this to close its last windows)",
      ),
      [...SPEC_SOURCE_KEYS, 'topic', 'heartbeatInterval'],
    ),
  ).action(async () => {
    const spec = specOf(cmd);
    const intervalMs = resolveSetting('heartbeatInterval', layersOf(cmd));
    const writer = new HeartbeatWriter({
      settings: kafkaSettingsOf(cmd),
      topic: spec.input.topic,
      idleTimeoutMs: spec.input.idleTimeoutMs,
      intervalMs,
      maxRecordBytes: spec.input.maxRecordBytes,
      log: err,
    });
    await writer.open();
    const idle = spec.input.idleTimeoutMs / 1000;
    err(`heartbeat: watching ${spec.input.topic}; heartbeats every ${intervalMs / 1000} s once every partition has been idle for ${idle} s (Ctrl-C stops)`);
    const onSignal = (): void => writer.stop();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await writer.run();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await writer.close();
      err(`heartbeat: stopped after ${writer.written} heartbeat(s)`);
    }
  });
  return cmd;
}
