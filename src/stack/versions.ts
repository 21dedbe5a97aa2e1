import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's stack/ folder: the pom (the version set) and the config templates. */
export const stackSourceDir = fileURLToPath(new URL('../../stack/', import.meta.url));
export const stackPomPath = `${stackSourceDir}pom.xml`;

export type StackVersions = {
  flink: string;
  flinkKafkaConnector: string;
  flinkJdbcConnector: string;
  postgresqlDriver: string;
  kafka: string;
  log4j: string;
};

const pomProperties = {
  flink: 'flink.version',
  flinkKafkaConnector: 'flink.kafka.connector.version',
  flinkJdbcConnector: 'flink.jdbc.connector.version',
  postgresqlDriver: 'postgresql.version',
  kafka: 'kafka.version',
  log4j: 'log4j.version',
} as const satisfies Record<keyof StackVersions, string>;

/** Reads the version set from stack/pom.xml, the one place where it is written. */
export function stackVersions(pomXml = readFileSync(stackPomPath, 'utf8')): StackVersions {
  const read = (name: string): string => {
    const match = new RegExp(`<${name.replace(/\./g, '\\.')}>([^<]+)</`).exec(pomXml);
    if (match?.[1] === undefined) throw new Error(`stack/pom.xml has no <${name}> property`);
    return match[1].trim();
  };
  const entries = Object.entries(pomProperties).map(([key, name]) => [key, read(name)]);
  return Object.fromEntries(entries) as StackVersions;
}

/** Names the cache folder: a new version set never reuses an old one's jars or data. */
export function stackId(v: StackVersions = stackVersions()): string {
  return `flink-${v.flink}_kafka-${v.kafka}`;
}
