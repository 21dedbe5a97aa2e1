/**
 * `tickflow stack` as a user runs it, on a second, private stack: its own empty folder (a cold
 * cache: jars resolved, storage formatted) and its own free ports, so taking it down does not
 * disturb the shared stack other test files use.
 */
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackLayout } from '../../src/stack/layout.ts';
import { isPortFree } from '../../src/stack/ports.ts';
import { findStackProcesses } from '../../src/stack/processes.ts';
import { stackSettings } from '../../src/stack/settings.ts';
import { currentStackInfo, stackDown, startTaskManager, stopComponent } from '../../src/stack/stack.ts';
import { tickflow } from '../support/cli.ts';
import { freePort, listenOn } from '../support/ports.ts';

describe('tickflow stack lifecycle (private stack, cold cache)', () => {
  let dir: string;
  let env: Record<string, string>;
  let ports: { kafka: number; controller: number; flink: number; rpc: number; gateway: number };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tickflow-stack-test-'));
    ports = { kafka: await freePort(), controller: await freePort(), flink: await freePort(), rpc: await freePort(), gateway: await freePort() };
    env = {
      TICKFLOW_STACK_DIR: dir,
      TICKFLOW_KAFKA_PORT: String(ports.kafka),
      TICKFLOW_KAFKA_CONTROLLER_PORT: String(ports.controller),
      TICKFLOW_FLINK_PORT: String(ports.flink),
      TICKFLOW_FLINK_RPC_PORT: String(ports.rpc),
      TICKFLOW_GATEWAY_PORT: String(ports.gateway),
      TICKFLOW_FLINK_SLOTS: '2',
    };
  });

  afterAll(async () => {
    // Whatever happened above, nothing of this stack may outlive the test.
    await stackDown(stackSettings({ dir }, {}), { purge: true }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it('refuses a taken port with one clear line, before downloading or starting anything', async () => {
    const squatter = await listenOn(ports.flink);
    try {
      const result = await tickflow(['stack', 'up'], { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^tickflow: port ${ports.flink} \\(Flink REST/web UI\\) on 127\\.0\\.0\\.1 is already in use( by [^;]+)?; free it or choose another with --flink-port / TICKFLOW_FLINK_PORT \\[stack_failed\\]\\n$`,
        ),
      );
      expect(existsSync(join(dir, 'lib'))).toBe(false);
      expect(findStackProcesses(stackLayout(dir))).toEqual([]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);

  it('comes up from a cold cache: resolves the jars, formats Kafka, starts all four and waits for health', async () => {
    const started = Date.now();
    const result = await tickflow(['stack', 'up'], { env });
    const seconds = (Date.now() - started) / 1000;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("resolved the stack's jars");
    expect(result.stdout).toContain('formatted KRaft storage');
    for (const c of ['kafka', 'jobmanager', 'taskmanager', 'sql-gateway']) {
      expect(result.stdout).toMatch(new RegExp(`^${c} +healthy +pid \\d+`, 'm'));
    }
    expect(result.stdout).toContain('2/2 slots free');
    const lib = stackLayout(dir).lib;
    expect(readdirSync(lib.kafka)).toContainEqual(expect.stringMatching(/^kafka_2\.13-4\..*\.jar$/));
    expect(readdirSync(lib.flink)).toContainEqual(expect.stringMatching(/^flink-runtime-web-1\.20\..*\.jar$/));
    expect(readdirSync(lib.gateway)).toEqual([expect.stringMatching(/^flink-sql-gateway-1\.20\..*\.jar$/)]);
    process.stderr.write(`[stack lifecycle] cold up (empty stack dir, ~/.m2 as found) took ${seconds.toFixed(1)} s\n`);
  }, 900_000);

  it('a second up is a no-op: same pids, nothing started', async () => {
    const before = JSON.parse((await tickflow(['stack', 'status', '--json'], { env })).stdout) as { pids: Record<string, number> };
    const result = await tickflow(['stack', 'up'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('already running: nothing to start');
    const after = await tickflow(['stack', 'status', '--json'], { env });
    expect(after.code).toBe(0);
    const parsed = JSON.parse(after.stdout) as { pids: Record<string, number>; components: Array<{ healthy: boolean }> };
    expect(parsed.pids).toEqual(before.pids);
    expect(parsed.components.every((c) => c.healthy)).toBe(true);
  }, 120_000);

  it("shows a component's log", async () => {
    const result = await tickflow(['stack', 'logs', 'kafka', '-n', '200'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Kafka Server started|KafkaRaftServer/);
    const bad = await tickflow(['stack', 'logs', 'zookeeper'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tickflow: no component "zookeeper".* \[bad_flag\]$/m);
  }, 60_000);

  it('restarts a killed TaskManager (what recovery tests use)', async () => {
    const settings = stackSettings({}, env);
    const before = await currentStackInfo(settings);
    const stopped = await stopComponent(settings, 'taskmanager', { signal: 'SIGKILL' });
    expect(stopped).toEqual({ pid: before.pids.taskmanager, outcome: 'killed' });
    const pid = await startTaskManager(settings);
    expect(pid).not.toBe(before.pids.taskmanager);
    const after = await currentStackInfo(settings);
    expect(after.pids).toEqual({ ...before.pids, taskmanager: pid });
  }, 180_000);

  it('down stops every process it started, waits for them, and frees the ports; data stays', async () => {
    const result = await tickflow(['stack', 'down'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^kafka +stopped \(pid \d+/m);
    expect(findStackProcesses(stackLayout(dir))).toEqual([]);
    for (const port of Object.values(ports)) expect(await isPortFree('127.0.0.1', port)).toBe(true);
    expect(existsSync(join(stackLayout(dir).data.kafka, 'meta.properties'))).toBe(true);
    const status = await tickflow(['stack', 'status'], { env });
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^kafka +stopped$/m);
  }, 240_000);

  it('says clearly when PostgreSQL does not answer', async () => {
    const nobody = await freePort();
    const result = await tickflow(['stack', 'up', '--database-url', `postgres://postgres@127.0.0.1:${nobody}/postgres`], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^tickflow: PostgreSQL is not answering at postgres://postgres@127\\.0\\.0\\.1:${nobody}/postgres \\(ECONNREFUSED\\)`),
    );
    expect(findStackProcesses(stackLayout(dir))).toEqual([]);
  }, 60_000);
});

describe('tickflow stack: clear errors for missing tools and bad flags', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tickflow-stack-errors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  // Ports no other test uses, so the port check passes and the tool checks are reached.
  const env = async (): Promise<Record<string, string>> => ({
    TICKFLOW_STACK_DIR: join(dir, 'stack'),
    TICKFLOW_KAFKA_PORT: String(await freePort()),
    TICKFLOW_KAFKA_CONTROLLER_PORT: String(await freePort()),
    TICKFLOW_FLINK_PORT: String(await freePort()),
    TICKFLOW_FLINK_RPC_PORT: String(await freePort()),
    TICKFLOW_GATEWAY_PORT: String(await freePort()),
  });

  it('Java missing', async () => {
    const result = await tickflow(['stack', 'up', '--no-postgres'], { env: { ...(await env()), TICKFLOW_JAVA_HOME: join(dir, 'no-such-jdk') } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tickflow: Java not found at .*no-such-jdk\/bin\/java \(from TICKFLOW_JAVA_HOME\); install JDK 17/);
  });

  it('Java too old', async () => {
    const home = join(dir, 'old-jdk');
    await mkdir(join(home, 'bin'), { recursive: true });
    await writeFile(join(home, 'bin', 'java'), '#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n');
    await chmod(join(home, 'bin', 'java'), 0o755);
    const result = await tickflow(['stack', 'up', '--no-postgres'], { env: { ...(await env()), TICKFLOW_JAVA_HOME: home } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tickflow: Java 11\.0\.22 at .* is too old: the stack needs JDK 17 or newer/);
  });

  it('Maven missing (only matters while the jars are not resolved yet)', async () => {
    const result = await tickflow(['stack', 'up', '--no-postgres'], { env: { ...(await env()), TICKFLOW_MVN: join(dir, 'no-such-mvn') } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tickflow: Maven not found \(.*no-such-mvn\): it is needed once/);
  });

  it('bad flags exit with code 2 and name the flag', async () => {
    const result = await tickflow(['stack', 'up', '--gateway-port', '70000'], { env: await env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('tickflow: --gateway-port: "70000" is not a port number (1-65535) [bad_flag]\n');
    const same = await tickflow(['stack', 'up', '--kafka-port', '9999', '--gateway-port', '9999'], { env: await env() });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/both set to 9999/);
  });
});
