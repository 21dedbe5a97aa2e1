import { spawn } from 'node:child_process';
import { kafkaToolsLog4j } from './config.ts';
import { findJava } from './java.ts';
import { stackLayout } from './layout.ts';
import type { StackSettings } from './settings.ts';

export type ToolResult = { code: number | null; stdout: string; stderr: string; timedOut: boolean };

/**
 * Runs one of Kafka's own command-line classes (TopicCommand, ConsoleProducer,
 * consumer.ConsoleConsumer, ProducerPerformance, …) from the resolved jars — the same code the
 * kafka-*.sh scripts run. Bounded by `timeoutMs`; never throws for a non-zero exit.
 */
export async function runKafkaTool(
  settings: StackSettings,
  mainClass: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; heap?: string } = {},
): Promise<ToolResult> {
  const java = await findJava();
  const layout = stackLayout(settings.dir);
  const className = mainClass.includes('.') ? mainClass : `org.apache.kafka.tools.${mainClass}`;
  const child = spawn(
    java.command,
    [
      `-Xmx${options.heap ?? '256m'}`,
      '-Duser.timezone=UTC',
      `-Dlog4j2.configurationFile=${kafkaToolsLog4j(layout)}`,
      '-cp',
      `${layout.lib.kafka}/*`,
      className,
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      stderr += String(error);
      resolve(null);
    });
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}
