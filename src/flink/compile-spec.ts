import { rulesSql } from '../rules/rules-sql.ts';
import type { PipelineSpec } from '../spec/spec.ts';
import { str } from './sql-text.ts';
import { candleWindows } from './sql/candle-windows.ts';
import { jobSettings } from './sql/job-settings.ts';
import { sinks } from './sql/sinks.ts';
import { parserFunctions, sourceAndParse } from './sql/source-and-parse.ts';
import { tradeIdDedupe } from './sql/trade-id-dedupe.ts';
import type { SqlFragment } from './sql/views.ts';

export { JDBC_BATCH } from './sql/sinks.ts';

/** Where the compiled job reads and writes: everything the spec leaves to the deployment. */
export interface FlinkTarget {
  /** Kafka bootstrap servers as the Flink cluster reaches them, e.g. 127.0.0.1:9092. */
  kafkaBootstrap: string;
  /** jdbc:postgresql://host:port/db of a database migrated by tickflow. */
  jdbcUrl: string;
  /** The JDBC connector wants user and password together (any password with trust auth). */
  jdbcUser: string;
  jdbcPassword: string;
  /** Flink job name; `tickflow flink deploy` finds a running copy by it. */
  jobName: string;
  /** Kafka consumer group: offsets are committed on checkpoints, so --replace resumes there. */
  groupId: string;
  parallelism: number;
  /** Prefix of the exactly-once alert producer's transactional ids (unique per job). */
  transactionalIdPrefix: string;
  /** Start from this savepoint or retained checkpoint (directory or _metadata path). */
  fromSavepoint?: string | undefined;
  /** Where this job's checkpoints go (deploy: one folder per job name, see checkpoints.ts); unset = the cluster's. */
  checkpointDir?: string | undefined;
}

export interface CompiledPipeline {
  /** SET statements, run in the session before everything else. */
  settings: Array<[string, string]>;
  /** CREATE FUNCTION statements for the parser function (its jar is on the cluster's classpath). */
  functions: string[];
  /** CREATE TEMPORARY TABLE / VIEW statements. */
  ddl: string[];
  /** The single EXECUTE STATEMENT SET that is the job. */
  statementSet: string;
}

/**
 * The pipeline spec as Flink SQL, one builder per embedded operator (src/flink/sql/): the
 * Kafka source and the parse, trade_id dedupe, the alert rules (src/rules/), candles, the sinks. All inserts
 * in one EXECUTE STATEMENT SET: one job.
 */
export function compileSpec(spec: PipelineSpec, target: FlinkTarget): CompiledPipeline {
  const rules = rulesSql(spec.rules);
  const alerts: SqlFragment = { ddl: rules.ddl, inserts: [] };
  const parts = [sourceAndParse(spec, target), tradeIdDedupe(), alerts, candleWindows(spec.candles), sinks(spec, target, rules.alertsView !== null)];
  const inserts = parts.flatMap((p) => p.inserts);
  return {
    settings: jobSettings(spec, target),
    functions: parserFunctions(),
    ddl: parts.flatMap((p) => p.ddl),
    statementSet: `EXECUTE STATEMENT SET\nBEGIN\n${inserts.map((i) => `${i};`).join('\n\n')}\nEND`,
  };
}

/**
 * The whole job as one SQL script a user can read or paste into the Flink SQL client. The
 * parser function's jar must be on the cluster's classpath (`tickflow stack up` puts it there);
 * `jarPath` names it for a cluster that lacks it.
 */
export function pipelineSqlScript(compiled: CompiledPipeline, jarPath?: string): string {
  return [
    '-- tickflow pipeline, compiled from the pipeline spec (tickflow flink sql). One EXECUTE STATEMENT SET = one Flink job.',
    ...compiled.settings.map(([k, v]) => `SET ${str(k)} = ${str(v)};`),
    '',
    '-- The trade parser (stack/udf, the Java twin of src/trade/parse.ts). Its jar is on the classpath of a',
    '-- `tickflow stack up` cluster; on another cluster put it in lib/ of every Flink process, or uncomment:',
    `-- ADD JAR ${str(jarPath ?? '/path/to/tickflow-udf.jar')};`,
    ...compiled.functions.map((f) => `${f};`),
    '',
    ...compiled.ddl.map((d) => `${d};\n`),
    `${compiled.statementSet};`,
    '',
  ].join('\n');
}
