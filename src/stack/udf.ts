import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { StackLayout } from './layout.ts';
import { StackError } from './stack-error.ts';
import { stackSourceDir } from './versions.ts';

const run = promisify(execFile);

/**
 * The trade parser as a Flink function (stack/udf, the one Java module of tickflow): built by
 * Maven into the stack folder, once per content of its sources, and put on the classpath of the
 * JobManager, TaskManager and SQL Gateway (a jar shipped with ADD JAR breaks job-graph
 * generation with checkpointing on in Flink 1.20, FLINK-28897; the classpath has no such trap).
 */
export const udfSourceDir = join(stackSourceDir, 'udf');

/** The classes `CREATE TEMPORARY SYSTEM FUNCTION` registers, by the SQL name the compiler uses. */
export const UDF_CLASSES = {
  tickflow_parse: 'dev.tickflow.udf.ParseTrade',
  tickflow_event_time: 'dev.tickflow.udf.ParseEventTime',
} as const;

type Marker = { sourceSha256: string; builtAt: string; seconds: number };

export const udfJarPath = (layout: StackLayout): string => join(layout.root, 'udf', 'tickflow-udf.jar');
const markerPath = (layout: StackLayout): string => join(layout.root, 'udf', 'built.json');

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** sha256 over the pom and every source file (names and contents): what decides a rebuild. */
export async function udfSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = [join(udfSourceDir, 'pom.xml'), ...(await filesUnder(join(udfSourceDir, 'src'))).sort()];
  for (const file of files) {
    hash.update(relative(udfSourceDir, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

/** True when the stack folder holds the jar of the current sources. */
export async function isUdfBuilt(layout: StackLayout): Promise<boolean> {
  if (!existsSync(udfJarPath(layout)) || !existsSync(markerPath(layout))) return false;
  try {
    const marker = JSON.parse(await readFile(markerPath(layout), 'utf8')) as Marker;
    return marker.sourceSha256 === (await udfSourceHash());
  } catch {
    return false;
  }
}

/**
 * Builds the function's jar unless the stack folder already has the one of these sources.
 * Maven writes into a build folder of the stack (the checkout stays clean); the jar is swapped
 * in whole, so a failed build leaves the previous jar in place.
 */
export async function ensureUdfJar(layout: StackLayout, report: (line: string) => void = () => {}, timeoutMs = 10 * 60_000): Promise<{ jar: string; built: boolean; seconds: number }> {
  const jar = udfJarPath(layout);
  if (await isUdfBuilt(layout)) return { jar, built: false, seconds: 0 };
  const mvn = process.env.TICKFLOW_MVN || 'mvn';
  const started = Date.now();
  const sourceSha256 = await udfSourceHash();
  const buildDir = join(layout.root, 'udf', `build-${process.pid}`);
  await mkdir(layout.logs, { recursive: true });
  const logPath = join(layout.logs, 'udf-build.log');
  report('building the parser function (stack/udf) with Maven…');
  const args = ['-B', '-q', '-f', join(udfSourceDir, 'pom.xml'), `-Dudf.build.dir=${buildDir}`, 'package'];
  try {
    const { stdout, stderr } = await run(mvn, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    await writeFile(logPath, `$ ${mvn} ${args.join(' ')}\n${stdout}${stderr}`);
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; killed?: boolean; code?: string; message: string };
    await writeFile(logPath, `$ ${mvn} ${args.join(' ')}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    await rm(buildDir, { recursive: true, force: true });
    if (e.code === 'ENOENT') throw new StackError(`Maven not found (${mvn}): it builds the parser function — install it (apt-get install maven) or set TICKFLOW_MVN`);
    const errors = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter((l) => l.includes('ERROR')).map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim());
    const why = e.killed ? `timed out after ${Math.round(timeoutMs / 1000)} s` : (errors[0] ?? e.message.split('\n')[0]);
    throw new StackError(`building the parser function (stack/udf) failed: ${why} (full output: ${logPath})`, 'environment', errors.slice(1, 4));
  }
  const built = (await readdir(buildDir)).find((f) => /^tickflow-udf-.*\.jar$/.test(f));
  if (built === undefined) throw new StackError(`Maven built no tickflow-udf jar in ${buildDir} (see ${logPath})`);
  await copyFile(join(buildDir, built), `${jar}.new`);
  await rename(`${jar}.new`, jar);
  await rm(buildDir, { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const marker: Marker = { sourceSha256, builtAt: new Date().toISOString(), seconds };
  await writeFile(markerPath(layout), `${JSON.stringify(marker, null, 2)}\n`);
  return { jar, built: true, seconds };
}
