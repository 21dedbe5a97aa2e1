import { resolveSetting } from '../config/resolve.ts';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stackError } from './stack-error.ts';

const run = promisify(execFile);

export type Java = { command: string; major: number; version: string };

/** Flink 1.20 supports Java 11 and 17 (21 experimentally); Kafka 4 brokers need 17. */
export const minJava = 17;
export const maxTestedJava = 21;

/** TICKFLOW_JAVA_HOME, then JAVA_HOME, then `java` on PATH; checked for version ≥ 17. */
export async function findJava(env: NodeJS.ProcessEnv = process.env): Promise<Java> {
  const home = resolveSetting('javaHome', { env });
  const command = home ? join(home, 'bin', 'java') : 'java';
  if (home && !existsSync(command)) {
    throw stackError(
      `Java not found at ${command} (from ${env.TICKFLOW_JAVA_HOME ? 'TICKFLOW_JAVA_HOME' : 'JAVA_HOME'}); install JDK ${minJava} or fix the variable`,
    );
  }
  let output: string;
  try {
    const { stderr, stdout } = await run(command, ['-version'], { timeout: 20_000 });
    output = `${stderr}${stdout}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw stackError(`Java not found: the stack needs JDK ${minJava} (e.g. apt-get install openjdk-17-jdk-headless) or JAVA_HOME set`);
    }
    throw stackError(`${command} -version failed: ${(error as Error).message.split('\n')[0]}`);
  }
  const version = /version "([^"]+)"/.exec(output)?.[1];
  if (version === undefined) throw stackError(`could not read the Java version from \`${command} -version\``);
  const parts = version.split(/[.+_-]/);
  const major = Number(parts[0] === '1' ? parts[1] : parts[0]);
  if (!Number.isInteger(major) || major < minJava) {
    throw stackError(`Java ${version} at ${command} is too old: the stack needs JDK ${minJava} or newer (set JAVA_HOME or TICKFLOW_JAVA_HOME)`);
  }
  return { command, major, version };
}

/**
 * The module flags Flink's default config.yaml puts in env.java.opts.all: Flink (Kryo, the
 * planner's code generation, Pekko) reflects into these JDK internals on Java 17.
 */
export const flinkJvmModuleFlags: readonly string[] = [
  ...[
    'java.base/sun.net.util',
    'java.rmi/sun.rmi.registry',
    'jdk.compiler/com.sun.tools.javac.api',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.compiler/com.sun.tools.javac.parser',
    'jdk.compiler/com.sun.tools.javac.tree',
    'jdk.compiler/com.sun.tools.javac.util',
    'java.security.jgss/sun.security.krb5',
  ].map((p) => `--add-exports=${p}=ALL-UNNAMED`),
  ...[
    'java.lang',
    'java.net',
    'java.io',
    'java.nio',
    'sun.nio.ch',
    'java.lang.reflect',
    'java.text',
    'java.time',
    'java.util',
    'java.util.concurrent',
    'java.util.concurrent.atomic',
    'java.util.concurrent.locks',
  ].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
];
