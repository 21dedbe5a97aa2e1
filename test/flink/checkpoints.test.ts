import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterCheckpointDir, jobCheckpointDir, latestCheckpoint, localPath } from '../../src/flink/checkpoints.ts';
import { sourceParallelismWarning } from '../../src/cli/flink-command.ts';

/** Finding the checkpoint `tickflow flink deploy --from-latest-checkpoint` restores (no cluster needed). */
describe('retained checkpoints on disk', () => {
  const root = mkdtempSync(join(tmpdir(), 'tickflow-chk-'));
  const jobA = 'a'.repeat(32);
  const jobB = 'b'.repeat(32);
  const chk = (job: string, n: number, metadataAtSec: number | null): string => {
    const dir = join(root, 'tickflow', job, `chk-${n}`);
    mkdirSync(dir, { recursive: true });
    if (metadataAtSec !== null) {
      writeFileSync(join(dir, '_metadata'), 'x');
      utimesSync(join(dir, '_metadata'), metadataAtSec, metadataAtSec);
    }
    return dir;
  };
  chk(jobA, 7, 1_000);
  const newest = chk(jobB, 3, 2_000);
  // In progress when the JobManager died: no _metadata, so not restorable.
  chk(jobB, 4, null);
  mkdirSync(join(root, 'tickflow', jobB, 'shared', 'chk-99'), { recursive: true });

  it('the newest chk-N with _metadata, across the job ids of one job name', async () => {
    const found = await latestCheckpoint(join(root, 'tickflow'));
    expect(found).toMatchObject({ path: newest, id: 3, jobId: jobB });
    expect(await latestCheckpoint(`file://${join(root, 'tickflow', jobA)}`)).toMatchObject({ id: 7, jobId: jobA });
    expect(await latestCheckpoint(join(root, 'tickflow', jobB, 'chk-3'))).toMatchObject({ id: 3 });
    expect(await latestCheckpoint(join(root, 'nothing-here'))).toBeNull();
    await expect(latestCheckpoint('s3://bucket/checkpoints')).rejects.toThrow(/only local paths/);
  });

  it('one folder per job name under the cluster directory', () => {
    expect(clusterCheckpointDir({ 'execution.checkpointing.dir': 'file:///data/checkpoints' })).toBe('file:///data/checkpoints');
    expect(clusterCheckpointDir({ 'state.checkpoints.dir': 'file:///old' })).toBe('file:///old');
    expect(clusterCheckpointDir({})).toBeNull();
    expect(jobCheckpointDir('file:///data/checkpoints/', 'my job/1')).toBe('file:///data/checkpoints/my_job_1');
    expect(localPath('file:///data/x')).toBe('/data/x');
    expect(localPath('file:/data/x')).toBe('/data/x');
    expect(localPath('hdfs://nn/x')).toBeNull();
  });

  it('deploy warns when a source subtask would read several partitions', () => {
    expect(sourceParallelismWarning(3, 3)).toBeNull();
    expect(sourceParallelismWarning(4, 3)).toBeNull();
    expect(sourceParallelismWarning(2, 3)).toMatch(/--parallelism 2 is below the topic's 3 partitions/);
  });
});
