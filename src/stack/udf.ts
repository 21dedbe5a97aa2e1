import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { StackLayout } from './layout.ts';
import { runMaven } from './maven.ts';
import { stackError } from './stack-error.ts';
import { stackSourceDir } from './versions.ts';

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
    hash
      .update(relative(udfSourceDir, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex');
}

/** The source hash the stack folder's jar was built from; null when there is no (whole) build. */
async function builtSourceHash(layout: StackLayout): Promise<string | null> {
  if (!existsSync(udfJarPath(layout)) || !existsSync(markerPath(layout))) return null;
  try {
    return (JSON.parse(await readFile(markerPath(layout), 'utf8')) as Marker).sourceSha256;
  } catch {
    return null;
  }
}

/** True when the stack folder holds the jar of the current sources. */
export async function isUdfBuilt(layout: StackLayout): Promise<boolean> {
  return (await builtSourceHash(layout)) === (await udfSourceHash());
}

/**
 * Builds the function's jar unless the stack folder already has the one of these sources.
 * Maven writes into a build folder of the stack (the checkout stays clean); the jar is swapped
 * in whole, so a failed build leaves the previous jar in place.
 */
export async function ensureUdfJar(
  layout: StackLayout,
  report: (line: string) => void = () => {},
  timeoutMs = 10 * 60_000,
): Promise<{ jar: string; built: boolean; seconds: number }> {
  const jar = udfJarPath(layout);
  const sourceSha256 = await udfSourceHash();
  if ((await builtSourceHash(layout)) === sourceSha256) return { jar, built: false, seconds: 0 };
  const started = Date.now();
  const buildDir = join(layout.root, 'udf', `build-${process.pid}`);
  await mkdir(layout.logs, { recursive: true });
  const logPath = join(layout.logs, 'udf-build.log');
  await writeFile(logPath, '');
  report('building the parser function (stack/udf) with Maven…');
  const args = ['-B', '-q', '-f', join(udfSourceDir, 'pom.xml'), `-Dudf.build.dir=${buildDir}`, 'package'];
  await runMaven(args, { what: 'building the parser function (stack/udf)', logPath, timeoutMs }).catch(async (e: unknown) => {
    await rm(buildDir, { recursive: true, force: true });
    throw e;
  });
  const built = (await readdir(buildDir)).find((f) => /^tickflow-udf-.*\.jar$/.test(f));
  if (built === undefined) throw stackError(`Maven built no tickflow-udf jar in ${buildDir} (see ${logPath})`);
  await copyFile(join(buildDir, built), `${jar}.new`);
  await rename(`${jar}.new`, jar);
  await rm(buildDir, { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const marker: Marker = { sourceSha256, builtAt: new Date().toISOString(), seconds };
  await writeFile(markerPath(layout), `${JSON.stringify(marker, null, 2)}\n`);
  return { jar, built: true, seconds };
}
