import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackLayout } from './layout.ts';
import type { StackSettings } from './settings.ts';
import { stackSourceDir } from './versions.ts';

/** Fills `{{name}}` placeholders; an unknown name is a bug in a template, so it throws. */
export function renderTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return String(value);
  });
}

export function templateValues(settings: StackSettings, layout: StackLayout): Record<string, string | number> {
  return {
    host: settings.host,
    kafkaPort: settings.ports.kafka,
    kafkaControllerPort: settings.ports.kafkaController,
    kafkaDataDir: layout.data.kafka,
    flinkPort: settings.ports.flink,
    flinkRpcPort: settings.ports.flinkRpc,
    gatewayPort: settings.ports.gateway,
    slots: settings.slots,
    jobManagerMemory: settings.jobManagerMemory,
    taskManagerMemory: settings.taskManagerMemory,
    flinkDataDir: layout.data.flink,
    flinkTmpDir: layout.data.flinkTmp,
  };
}

/** Template in stack/conf → file in the cache dir's conf/ (rewritten on every `up`). */
const files: ReadonlyArray<{ template: string; to: (l: StackLayout) => string }> = [
  { template: 'kafka-server.properties', to: (l) => join(l.conf.kafka, 'server.properties') },
  { template: 'kafka-log4j2.properties', to: (l) => join(l.conf.kafka, 'log4j2.properties') },
  { template: 'kafka-tools-log4j2.properties', to: (l) => join(l.conf.kafka, 'tools-log4j2.properties') },
  { template: 'flink-config.yaml', to: (l) => join(l.conf.flink, 'config.yaml') },
  { template: 'flink-log4j.properties', to: (l) => join(l.conf.flink, 'log4j.properties') },
];

export async function writeStackConfig(settings: StackSettings, layout: StackLayout): Promise<void> {
  const values = templateValues(settings, layout);
  for (const dir of [layout.conf.kafka, layout.conf.flink, layout.data.kafka, layout.data.flinkTmp, layout.data.flinkPlugins, layout.logs, layout.run]) {
    await mkdir(dir, { recursive: true });
  }
  for (const file of files) {
    const template = await readFile(join(stackSourceDir, 'conf', file.template), 'utf8');
    await writeFile(file.to(layout), renderTemplate(template, values));
  }
}

export const kafkaServerProperties = (l: StackLayout) => join(l.conf.kafka, 'server.properties');
export const kafkaLog4j = (l: StackLayout) => join(l.conf.kafka, 'log4j2.properties');
export const kafkaToolsLog4j = (l: StackLayout) => join(l.conf.kafka, 'tools-log4j2.properties');
export const flinkLog4j = (l: StackLayout) => join(l.conf.flink, 'log4j.properties');
