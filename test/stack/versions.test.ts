/**
 * Checks without a running stack: the version set is written once (stack/pom.xml) and the
 * Docker files mirror it; settings resolve flags > env > defaults; templates render fully.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { userCacheDir } from '../../src/config/user-cache.ts';
import { renderTemplate, templateValues } from '../../src/stack/config.ts';
import { stackLayout } from '../../src/stack/layout.ts';
import { defaultPorts, stackSettings } from '../../src/stack/settings.ts';
import { stackId, stackSourceDir, stackVersions } from '../../src/stack/versions.ts';
import { repoRoot } from '../support/cli.ts';

describe('stack version set', () => {
  const v = stackVersions();

  it('is the pinned line: Flink 1.20 with its 1.20 connectors, Kafka 4, pgjdbc 42.7', () => {
    expect(v.flink).toMatch(/^1\.20\.\d+$/);
    expect(v.flinkKafkaConnector).toMatch(/-1\.20$/);
    expect(v.flinkJdbcConnector).toMatch(/-1\.20$/);
    expect(v.kafka).toMatch(/^4\.\d+\.\d+$/);
    expect(v.postgresqlDriver).toMatch(/^42\.7\.\d+$/);
    expect(stackId(v)).toBe(`flink-${v.flink}_kafka-${v.kafka}`);
  });

  it('is mirrored by deploy/docker-compose.yml and deploy/Dockerfile.flink', async () => {
    const compose = await readFile(join(repoRoot, 'deploy', 'docker-compose.yml'), 'utf8');
    const dockerfile = await readFile(join(repoRoot, 'deploy', 'Dockerfile.flink'), 'utf8');
    expect(compose).toContain(`image: apache/kafka:${v.kafka}`);
    expect(compose).toContain(`FLINK_VERSION: "${v.flink}"`);
    expect(compose).toContain(`image: tickflow/flink:${v.flink}`);
    for (const line of [
      `flink.version ${v.flink}`,
      `kafka.version ${v.kafka}`,
      `flink.kafka.connector.version ${v.flinkKafkaConnector}`,
      `flink.jdbc.connector.version ${v.flinkJdbcConnector}`,
      `postgresql.version ${v.postgresqlDriver}`,
    ]) {
      expect(compose).toContain(line);
    }
    expect(dockerfile).toContain(`ARG FLINK_VERSION=${v.flink}`);
    expect(dockerfile).toContain('-P connectors');
    // The parser function is built into the image and put on every Flink process's classpath.
    expect(dockerfile).toContain('COPY stack/udf/ ./');
    expect(dockerfile).toMatch(/COPY --from=udf \S+ \/opt\/flink\/lib\//);
    // Every version in the compose file is one of ours (no stray pins).
    const imageTags = [...compose.matchAll(/image: (\S+)/g)].map((m) => m[1]);
    expect(imageTags).toEqual([`tickflow/flink:${v.flink}`, `apache/kafka:${v.kafka}`, 'postgres:15', 'tickflow/tickflow:latest']);
  });
});

describe('the parser function module (stack/udf)', () => {
  it("compiles against the stack's Flink version", async () => {
    const pom = await readFile(join(stackSourceDir, 'udf', 'pom.xml'), 'utf8');
    expect(pom).toContain(`<flink.version>${stackVersions().flink}</flink.version>`);
    expect(pom).toMatch(/<artifactId>flink-table-common<\/artifactId>\s*<version>\$\{flink.version\}<\/version>\s*<scope>provided<\/scope>/);
  });
});

describe('stack settings', () => {
  it('defaults to loopback, the usual ports, 4 slots and the cache folder named after the versions', () => {
    const s = stackSettings({}, { HOME: '/home/u' });
    expect(s.host).toBe('127.0.0.1');
    expect(s.ports).toEqual(defaultPorts);
    expect(s.slots).toBe(4);
    expect(s.dir).toMatch(new RegExp(`/\\.cache/tickflow/stack/${stackId().replace(/\./g, '\\.')}$`));
    expect(s.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/postgres');
  });

  it('puts the stack in XDG_CACHE_HOME when set (and not empty), as the PGlite template and the compile cache', () => {
    const id = stackId();
    expect(stackSettings({}, { XDG_CACHE_HOME: '/var/cache/u' }).dir).toBe(`/var/cache/u/tickflow/stack/${id}`);
    expect(stackSettings({}, { XDG_CACHE_HOME: '' }).dir).toBe(join(homedir(), '.cache', 'tickflow', 'stack', id));
    expect(userCacheDir({ XDG_CACHE_HOME: '/var/cache/u' })).toBe('/var/cache/u/tickflow');
    expect(userCacheDir({})).toBe(join(homedir(), '.cache', 'tickflow'));
  });

  it('takes flags over env over defaults', () => {
    const env = { TICKFLOW_STACK_DIR: '/tmp/a', TICKFLOW_KAFKA_PORT: '19092', TICKFLOW_FLINK_PORT: '18081', DATABASE_URL: 'postgres://u@db/x' };
    const s = stackSettings({ flinkPort: '28081', slots: '2' }, env);
    expect(s.dir).toBe('/tmp/a');
    expect(s.ports.kafka).toBe(19092);
    expect(s.ports.flink).toBe(28081);
    expect(s.slots).toBe(2);
    expect(s.databaseUrl).toBe('postgres://u@db/x');
    expect(stackSettings({ postgres: false }, env).databaseUrl).toBeNull();
  });

  it('names the flag and the env var of a bad value', () => {
    expect(() => stackSettings({}, { TICKFLOW_GATEWAY_PORT: 'x' })).toThrow('TICKFLOW_GATEWAY_PORT: "x" is not a port number (1-65535)');
    expect(() => stackSettings({ gatewayPort: 'x' }, {})).toThrow(
      expect.objectContaining({ code: 'bad_flag', message: '--gateway-port: "x" is not a port number (1-65535)' }),
    );
    expect(() => stackSettings({}, { TICKFLOW_FLINK_TM_MEMORY: 'lots' })).toThrow(/^TICKFLOW_FLINK_TM_MEMORY: "lots" is not a size/);
    expect(() => stackSettings({ kafkaPort: '8081' }, {})).toThrow(/kafka and flink are both set to 8081/);
    expect(() => stackSettings({ databaseUrl: 'mysql://x' }, {})).toThrow(/is not a postgres:\/\/ URL/);
  });
});

describe('config templates', () => {
  const settings = stackSettings({ dir: '/tmp/tf-stack', kafkaPort: '19092', slots: '3' }, {});
  const values = templateValues(settings, stackLayout(settings.dir));
  const render = async (name: string) => renderTemplate(await readFile(join(stackSourceDir, 'conf', name), 'utf8'), values);

  it('render every placeholder', async () => {
    for (const name of ['kafka-server.properties', 'kafka-log4j2.properties', 'kafka-tools-log4j2.properties', 'flink-config.yaml', 'flink-log4j.properties']) {
      expect(await render(name)).not.toMatch(/\{\{/);
    }
    expect(() => renderTemplate('{{nope}}', {})).toThrow(/\{\{nope\}\} has no value/);
  });

  it("give Kafka single-node transactions long enough for Flink's exactly-once sink, on loopback", async () => {
    const kafka = await render('kafka-server.properties');
    expect(kafka).toContain('listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:9093');
    expect(kafka).toContain('transaction.state.log.replication.factor=1');
    expect(kafka).toContain('transaction.state.log.min.isr=1');
    expect(kafka).toContain('transaction.max.timeout.ms=3600000');
    expect(kafka).toContain('log.dirs=/tmp/tf-stack/data/kafka');
  });

  it('bind every Flink endpoint to loopback', async () => {
    const flink = await render('flink-config.yaml');
    for (const key of ['jobmanager.bind-host', 'taskmanager.bind-host', 'rest.bind-address', 'sql-gateway.endpoint.rest.bind-address']) {
      expect(flink).toContain(`${key}: 127.0.0.1`);
    }
    expect(flink).toContain('taskmanager.numberOfTaskSlots: 3');
  });

  it('keep Flink checkpoints under the stack folder, retained when a job is cancelled or lost', async () => {
    const flink = await render('flink-config.yaml');
    expect(flink).toContain('execution.checkpointing.dir: file:///tmp/tf-stack/data/flink/checkpoints');
    expect(flink).toContain('execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION');
  });
});
