import { join } from 'node:path';

export const components = ['kafka', 'jobmanager', 'taskmanager', 'sql-gateway'] as const;
export type Component = (typeof components)[number];

/** Everything the stack keeps on disk, under one folder (the cache dir). */
export type StackLayout = {
  root: string;
  /** Classpath folders: Kafka and Flink never share one (Scala/Jackson versions differ). */
  lib: { kafka: string; flink: string; gateway: string };
  /** Marker written after a successful resolve: which pom it came from. */
  resolvedMarker: string;
  conf: { kafka: string; flink: string };
  data: { kafka: string; flink: string; flinkTmp: string; flinkPlugins: string };
  logs: string;
  run: string;
  /** The settings the running stack was started with (so status/down need no flags). */
  stateFile: string;
};

export function stackLayout(root: string): StackLayout {
  return {
    root,
    lib: { kafka: join(root, 'lib', 'kafka'), flink: join(root, 'lib', 'flink'), gateway: join(root, 'lib', 'gateway') },
    resolvedMarker: join(root, 'lib', 'resolved.json'),
    conf: { kafka: join(root, 'conf', 'kafka'), flink: join(root, 'conf', 'flink') },
    data: {
      kafka: join(root, 'data', 'kafka'),
      flink: join(root, 'data', 'flink'),
      flinkTmp: join(root, 'data', 'flink', 'tmp'),
      flinkPlugins: join(root, 'data', 'flink', 'plugins'),
    },
    logs: join(root, 'logs'),
    run: join(root, 'run'),
    stateFile: join(root, 'run', 'stack.json'),
  };
}

export const pidFile = (layout: StackLayout, c: Component): string => join(layout.run, `${c}.pid`);
/** The component's own log (log4j) — also what Flink's web UI shows. */
export const logFile = (layout: StackLayout, c: Component): string => join(layout.logs, `${c}.log`);
/** The JVM's stdout/stderr: crashes before logging starts (bad flags, missing class) land here. */
export const outFile = (layout: StackLayout, c: Component): string => join(layout.logs, `${c}.out`);
