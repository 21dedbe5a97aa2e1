/** One measured figure. `ratio` compares with a reference measured in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What the target is, in words (e.g. "≥ 1,000,000/s", "ratio ≥ 0.7"). */
  target?: string;
  /** Whether the target was met; absent when there is no target. */
  met?: boolean;
  notes?: string;
}

/** A benchmark module: bench/<name>.bench.ts exports `bench` of this shape. */
export interface Bench {
  name: string;
  /** Needs the local Kafka/Flink stack running (skipped otherwise, and said so). */
  needsStack?: boolean;
  run(): Promise<BenchRow[]>;
}
