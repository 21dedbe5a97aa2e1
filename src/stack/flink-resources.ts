import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { flinkLog4j } from './config.ts';
import type { StackLayout } from './layout.ts';
import { stackError } from './stack-error.ts';

const run = promisify(execFile);

/** JVM flags and `-D key=value` arguments derived from the memory settings in config.yaml. */
export type FlinkProcessParams = { jvm: string[]; dynamic: string[] };
type Cached = { configSha256: string; jobmanager: FlinkProcessParams; taskmanager: FlinkProcessParams };

/**
 * What flink-dist's scripts compute before starting a JobManager/TaskManager: the TaskManager
 * refuses to start without the fine-grained memory keys ("Failed to create
 * TaskExecutorResourceSpec"). Flink's own helper does the arithmetic; its answer is cached per
 * config.yaml content, so a warm `up` skips these two JVM starts.
 */
export async function flinkProcessParams(java: string, layout: StackLayout): Promise<{ jobmanager: FlinkProcessParams; taskmanager: FlinkProcessParams }> {
  const config = await readFile(join(layout.conf.flink, 'config.yaml'), 'utf8');
  const configSha256 = createHash('sha256').update(config).digest('hex');
  const cachePath = join(layout.run, 'flink-process-params.json');
  if (existsSync(cachePath)) {
    const cached = JSON.parse(await readFile(cachePath, 'utf8')) as Cached;
    if (cached.configSha256 === configSha256) return cached;
  }
  const [jobmanager, taskmanager] = await Promise.all([
    askBashJavaUtils(java, layout, 'GET_JM_RESOURCE_PARAMS'),
    askBashJavaUtils(java, layout, 'GET_TM_RESOURCE_PARAMS'),
  ]);
  const result: Cached = { configSha256, jobmanager, taskmanager };
  await writeFile(cachePath, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

async function askBashJavaUtils(java: string, layout: StackLayout, command: string): Promise<FlinkProcessParams> {
  const args = [
    `-Dlog4j2.configurationFile=file:${flinkLog4j(layout)}`,
    `-Dlog.file=${join(layout.logs, 'flink-memory-params.log')}`,
    '-cp',
    `${layout.lib.flink}/*`,
    'org.apache.flink.runtime.util.bash.BashJavaUtils',
    command,
    '--configDir',
    layout.conf.flink,
  ];
  let stdout: string;
  try {
    ({ stdout } = await run(java, args, { timeout: 60_000 }));
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const lines = `${e.stdout ?? ''}${e.stderr ?? ''}`
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-5);
    throw stackError(`Flink could not derive its memory settings (${command}): check the TICKFLOW_FLINK_*_MEMORY sizes`, 'environment', lines);
  }
  // The helper prints log noise too; its answers are the lines with this prefix, in order.
  const results = stdout
    .split('\n')
    .filter((l) => l.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:'))
    .map((l) => l.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim());
  const [jvmLine, dynamicLine] = results;
  if (jvmLine === undefined) throw stackError(`Flink's BashJavaUtils ${command} gave no answer`);
  const jvm = jvmLine.split(/\s+/).filter((s) => s !== '');
  // "-D a=1 -D b=2" → ["-D", "a=1", "-D", "b=2"]: the entrypoints take them as separate arguments.
  const dynamic = (dynamicLine ?? '').split(/\s+/).filter((s) => s !== '');
  return { jvm, dynamic };
}
