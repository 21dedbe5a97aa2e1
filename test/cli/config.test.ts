import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineSpec } from '../../src/spec/spec.ts';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/config-file.ts';
import { resolveSetting, resolveSettings } from '../../src/config/resolve.ts';
import { resolveSpec } from '../../src/config/resolve-spec.ts';
import { SETTINGS } from '../../src/config/settings.ts';
import { ERROR_CODES } from '../../src/tickflow-error.ts';
import { tickflow } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-config-'));
const file = (name: string, json: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
  return path;
};
const repo = new URL('../../', import.meta.url).pathname;

/** The threshold of the rule named "large" (what --threshold sets). */
const largeThreshold = (spec: PipelineSpec): number | undefined =>
  spec.rules.flatMap((r) => (r.kind === 'large_trade' && r.name === 'large' ? [r.threshold] : []))[0];

describe('one resolver: flag > environment > config file > default', () => {
  const config = loadConfigFile(file('layers.json', { db: 'pglite:/from-file', dashboard: { port: 4001 }, kafka: { brokers: ['f1:9092', 'f2:9092'] } }));

  it('takes each layer in order, for every kind of setting', () => {
    expect(resolveSetting('db', {})).toBe('pglite:./.tickflow/pgdata');
    expect(resolveSetting('db', { file: config })).toBe('pglite:/from-file');
    expect(resolveSetting('db', { file: config, env: { DATABASE_URL: 'memory' } })).toBe('memory');
    // Two variables for one setting: the first one set wins.
    expect(resolveSetting('db', { file: config, env: { DATABASE_URL: 'memory', TICKFLOW_DB: 'pglite:/env' } })).toBe('pglite:/env');
    expect(resolveSetting('db', { file: config, env: { TICKFLOW_DB: 'pglite:/env' }, flags: { db: 'pglite:/flag' } })).toBe('pglite:/flag');
    expect(resolveSettings(['port', 'brokers'], { file: config })).toEqual({ port: 4001, brokers: ['f1:9092', 'f2:9092'] });
    expect(resolveSettings(['port', 'brokers'], { file: config, env: { TICKFLOW_PORT: '4002', KAFKA_BROKERS: 'e:1' } })).toEqual({
      port: 4002,
      brokers: ['e:1'],
    });
  });

  it('reads a value in its own unit: --connect-timeout in seconds, the variable and file key in ms', () => {
    expect(resolveSetting('connectTimeout', { flags: { connectTimeout: '2.5' } })).toBe(2500);
    expect(resolveSetting('connectTimeout', { env: { KAFKA_CONNECT_TIMEOUT_MS: '2500' } })).toBe(2500);
    expect(resolveSetting('connectTimeout', { file: loadConfigFile(file('ct.json', { kafka: { connectTimeoutMs: 700 } })) })).toBe(700);
    expect(resolveSetting('connectTimeout', {})).toBe(10_000);
  });

  it('computes a default from the environment where the stack puts it elsewhere', () => {
    expect(resolveSetting('gateway', {})).toBe('http://127.0.0.1:8083');
    expect(resolveSetting('gateway', { env: { TICKFLOW_GATEWAY_PORT: '18083' } })).toBe('http://127.0.0.1:18083');
    expect(resolveSetting('gateway', { env: { TICKFLOW_GATEWAY_PORT: '18083', TICKFLOW_FLINK_GATEWAY: 'http://gw:1/' } })).toBe('http://gw:1');
  });

  it('names where a bad value came from, with the code of that layer, and never echoes a secret', () => {
    expect(() => resolveSetting('port', { flags: { port: 'x' } })).toThrow(
      expect.objectContaining({ code: 'bad_flag', message: '--port: "x" is not a port number (0-65535; 0 takes a free one)' }),
    );
    expect(() => resolveSetting('port', { env: { TICKFLOW_PORT: 'x' } })).toThrow(
      expect.objectContaining({ code: 'bad_config', message: 'TICKFLOW_PORT: "x" is not a port number (0-65535; 0 takes a free one)' }),
    );
    const bad = loadConfigFile(file('bad-port.json', { dashboard: { port: 'x' } }));
    expect(() => resolveSetting('port', { file: bad })).toThrow(`config ${bad.path}: dashboard.port: "x" is not a port number (0-65535; 0 takes a free one)`);
    expect(() => resolveSetting('jobDb', { env: { DATABASE_URL: 'mysql://u:hunter2@db/x' } })).toThrow('DATABASE_URL: value is not a postgres:// URL');
  });

  it('builds the spec from --spec or the config file\'s "spec", then the flags and variables', () => {
    const withSpec = loadConfigFile(file('spec.json', { spec: { rules: { largeTrade: { threshold: 7 } }, input: { topic: 'from-config' } } }));
    expect(largeThreshold(resolveSpec({ file: withSpec }))).toBe(7);
    expect(largeThreshold(resolveSpec({ file: withSpec, env: { TICKFLOW_THRESHOLD: '8' } }))).toBe(8);
    expect(largeThreshold(resolveSpec({ file: withSpec, env: { TICKFLOW_THRESHOLD: '8' }, flags: { threshold: '9' } }))).toBe(9);
    const specFile = file('own-spec.json', { input: { topic: 'from-spec-file' } });
    // --spec replaces the config file's spec as a whole.
    const s = resolveSpec({ file: withSpec, flags: { specFile } });
    expect([s.input.topic, largeThreshold(s)]).toEqual(['from-spec-file', 1_000_000]);
    expect(resolveSpec({ flags: { specFile, outOfOrderness: '2.5', candleInterval: '300' } })).toMatchObject({
      input: { outOfOrdernessMs: 2500 },
      candles: { intervalMs: 300_000 },
    });
  });

  it('refuses a config file key nothing reads, naming it', () => {
    expect(() => loadConfigFile(file('typo.json', { kafak: { brokers: 'x:1' } }))).toThrow(/typo\.json: kafak: unknown key \(known: spec, /);
    expect(() => loadConfigFile(file('deep.json', { dashboard: { prot: 1 } }))).toThrow(/deep\.json: dashboard\.prot: unknown key/);
    expect(() => loadConfigFile(file('nested.json', { db: { url: 'x' } }))).toThrow(/nested\.json: db: must be a string, number, boolean or list of strings/);
    expect(() => loadConfigFile(file('not-json.json', '{'))).toThrow(/not-json\.json: not valid JSON/);
  });
});

describe('the CLI applies the same precedence everywhere', () => {
  it('spec: default, config file, environment, flag', async () => {
    const config = file('cli.json', { spec: { rules: { largeTrade: { threshold: 11 } } } });
    const threshold = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = await tickflow(['spec', ...args], { env: { TICKFLOW_THRESHOLD: '', ...env } });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { rules: Array<{ name: string; threshold?: number }> }).rules.find((x) => x.name === 'large')?.threshold;
    };
    expect(await threshold([])).toBe(1_000_000);
    expect(await threshold(['--config', config])).toBe(11);
    expect(await threshold([], { TICKFLOW_CONFIG: config })).toBe(11);
    expect(await threshold(['--config', config], { TICKFLOW_THRESHOLD: '12' })).toBe(12);
    expect(await threshold(['--config', config, '--threshold', '13'], { TICKFLOW_THRESHOLD: '12' })).toBe(13);
  });

  it('every command that names topics takes --spec and --config, and checks them before contacting anything', async () => {
    const badSpec = file('bad-spec.json', { input: { partitions: 0 } });
    for (const args of [
      ['topics', 'create'],
      ['topics', 'describe'],
      ['produce', '--count', '1'],
      ['alerts', 'tail'],
      ['alerts', 'forward', '--to', 'webhook:http://127.0.0.1:9/hook'],
      ['flink', 'sql'],
      ['flink', 'deploy'],
      ['run', '--source', 'kafka', '--no-dashboard'],
      ['serve', '--brokers', '127.0.0.1:9'],
    ]) {
      const r = await tickflow([...args, '--spec', badSpec, '--brokers', '127.0.0.1:9'], { timeoutMs: 30_000 });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim(), args.join(' ')).toMatch(/^tickflow: spec: input\.partitions: .* \[bad_config\]$/);
    }
  });

  it("topics create takes the spec's topic names (then fails on the unreachable broker, exit 2)", async () => {
    const spec = file('topics-spec.json', { input: { topic: 'replay' } });
    const r = await tickflow(['topics', 'create', '--spec', spec, '--brokers', '127.0.0.1:9', '--connect-timeout', '1'], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Kafka at 127\.0\.0\.1:9 .*\[kafka_unreachable\]$/m);
  });

  it('--help shows each default once, with its environment variable', { timeout: 300_000 }, async () => {
    const commands = [
      ['run'],
      ['serve'],
      ['query'],
      ['spec'],
      ['produce'],
      ['topics', 'create'],
      ['alerts', 'tail'],
      ['alerts', 'forward'],
      ['flink', 'sql'],
      ['flink', 'deploy'],
      ['flink', 'status'],
      ['stack', 'up'],
      ['stack', 'down'],
      ['rules', 'check'],
    ];
    // At once: one CLI start takes seconds on a busy 2-core machine, sixteen in a row minutes.
    const helps = await Promise.all(commands.map((c) => tickflow([...c, '--help'], { timeoutMs: 240_000 })));
    for (const [i, c] of commands.entries()) {
      const r = helps[i]!;
      expect(r.code).toBe(0);
      // Commander wraps long descriptions: judge each option's whole text.
      const options = r.stdout.split(/\n(?= {2}-)/).filter((o) => o.trimStart().startsWith('-'));
      for (const o of options) expect(o.match(/\(default|default /g)?.length ?? 0, `${c.join(' ')}: ${o}`).toBeLessThanOrEqual(1);
    }
    const deploy = await tickflow(['flink', 'deploy', '--help']);
    expect(deploy.stdout.replace(/\s+/g, ' ')).toContain(
      'Flink SQL Gateway (default http://127.0.0.1:8083, or TICKFLOW_GATEWAY_PORT; env TICKFLOW_FLINK_GATEWAY; config flink.gateway)',
    );
  });
});

describe('one home for every setting and every exit status', () => {
  it('every environment variable the code reads is declared in src/config/settings.ts', () => {
    const declared = new Set(Object.values(SETTINGS).flatMap((s) => ('env' in s ? [...s.env] : [])));
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : n.endsWith('.ts') ? [join(d, n)] : []));
    const read = new Set<string>();
    for (const f of files(join(repo, 'src'))) {
      if (f.endsWith('src/config/settings.ts')) continue;
      for (const m of readFileSync(f, 'utf8').matchAll(/env(?:\.|\[')((?:TICKFLOW|KAFKA)_[A-Z_]+|DATABASE_URL|JAVA_HOME)/g)) read.add(m[1]!);
    }
    // A test-only hook of the PostgreSQL writer, not a setting.
    read.delete('TICKFLOW_COPY_REFUSED');
    expect([...read].filter((v) => !declared.has(v))).toEqual([]);
  });

  it('README lists every error code next to its exit status', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| [123] \\|`));
  });
});
