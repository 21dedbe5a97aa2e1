import { defineConfig } from 'vitest/config';

/**
 * Two projects: `core` needs only PostgreSQL (and PGlite); `services` needs the local Kafka +
 * Flink stack, which its global setup starts once and stops at the end even when tests fail.
 * Files run one at a time: this is a 2-core machine and the JVMs need their share.
 */
export default defineConfig({
  test: {
    fileParallelism: false,
    // CI also keeps a machine-readable report (.ci/run prints its totals as the closing line).
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        test: {
          name: 'core',
          include: [
            'test/{trade,engine,checkpoints,simulate,store,pipeline,cli,server,browser,abuse,flink-sql,udf}/**/*.test.ts',
            'test/faults/embedded-*.test.ts',
            'src/rules/**/*.test.ts',
          ],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'services',
          include: ['test/{stack,kafka,flink,alerts}/**/*.test.ts', 'test/faults/kafka-*.test.ts'],
          globalSetup: ['test/setup/stack.global.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
