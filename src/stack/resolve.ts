import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StackLayout } from './layout.ts';
import { mavenCommand, runMaven } from './maven.ts';
import { stackError } from './stack-error.ts';
import { stackPomPath } from './versions.ts';

const run = promisify(execFile);

type Marker = { pomSha256: string; resolvedAt: string; seconds: number };

export type ResolveResult = { resolved: boolean; seconds: number };

function pomHash(pom: string): string {
  return createHash('sha256').update(pom).digest('hex');
}

/** True when lib/ holds the jars of the current stack/pom.xml (nothing to download). */
export async function isResolved(layout: StackLayout): Promise<boolean> {
  if (!existsSync(layout.resolvedMarker)) return false;
  try {
    const marker = JSON.parse(await readFile(layout.resolvedMarker, 'utf8')) as Marker;
    return marker.pomSha256 === pomHash(await readFile(stackPomPath, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Copies the jars of each component into its own lib folder with
 * `mvn dependency:copy-dependencies`, once: later runs find the marker and start offline.
 * Resolves into a staging folder and swaps it in, so an interrupted run never leaves half a lib.
 */
export async function resolveStack(layout: StackLayout, report: (line: string) => void = () => {}, timeoutMs = 15 * 60_000): Promise<ResolveResult> {
  if (await isResolved(layout)) return { resolved: false, seconds: 0 };
  await checkMaven(mavenCommand());

  const started = Date.now();
  const pom = await readFile(stackPomPath, 'utf8');
  const libRoot = join(layout.root, 'lib');
  const staging = join(layout.root, `lib.staging-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(layout.logs, { recursive: true });
  const logPath = join(layout.logs, 'resolve.log');
  await writeFile(logPath, '');

  const copy = async (profiles: string, into: string) => {
    const args = ['-B', '-q', '-f', stackPomPath, '-P', profiles, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${into}`];
    await runMaven(args, { what: `resolving the ${profiles} jars with Maven`, logPath, timeoutMs }).catch(async (e: unknown) => {
      await rm(staging, { recursive: true, force: true });
      throw e;
    });
  };

  report('resolving Kafka jars (mvn dependency:copy-dependencies)…');
  await copy('kafka', join(staging, 'kafka'));
  report('resolving Flink jars…');
  await copy('flink,connectors', join(staging, 'flink'));
  // The gateway is resolved together with Flink so Maven mediates one consistent set; only
  // the jars Flink's folder lacks are kept (the gateway runs with both folders on its classpath).
  await copy('flink,connectors,gateway', join(staging, 'gateway'));
  const flinkJars = new Set(await readdir(join(staging, 'flink')));
  for (const jar of await readdir(join(staging, 'gateway'))) {
    if (flinkJars.has(jar)) await rm(join(staging, 'gateway', jar));
  }

  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const marker: Marker = { pomSha256: pomHash(pom), resolvedAt: new Date().toISOString(), seconds };
  await writeFile(join(staging, 'resolved.json'), `${JSON.stringify(marker, null, 2)}\n`);
  await rm(libRoot, { recursive: true, force: true });
  await rename(staging, libRoot);
  return { resolved: true, seconds };
}

async function checkMaven(mvn: string): Promise<void> {
  try {
    await run(mvn, ['-v'], { timeout: 60_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw stackError(`Maven not found (${mvn}): it is needed once, to fetch the stack's jars — install it (apt-get install maven) or set TICKFLOW_MVN`);
    }
    throw stackError(`\`${mvn} -v\` failed: ${(error as Error).message.split('\n')[0]}`);
  }
}
