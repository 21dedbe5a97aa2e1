import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TickflowError } from '../tickflow-error.ts';

/**
 * Retained checkpoints on a filesystem this process can read. Flink writes a job's checkpoints
 * as `<dir>/<job id>/chk-<n>/_metadata`; `_metadata` is written last, so a `chk-<n>` without it
 * is one that was in progress when the JobManager died and cannot be restored.
 */
export interface RetainedCheckpoint {
  /** The chk-<n> directory: what `execution.state-recovery.path` takes. */
  path: string;
  id: number;
  /** The Flink job id the checkpoint belongs to (its parent directory's name), if it has that shape. */
  jobId: string | null;
  completedAt: Date;
}

/** The cluster's checkpoint directory (Flink 1.20 key, then its deprecated name); null if none is set. */
export function clusterCheckpointDir(config: Record<string, string>): string | null {
  return config['execution.checkpointing.dir'] ?? config['state.checkpoints.dir'] ?? null;
}

/**
 * Where deploy puts the checkpoints of the job called `jobName`: one folder per job name under
 * the cluster's checkpoint directory, so "the latest checkpoint of job tickflow" survives the
 * JobManager that knew its job id.
 */
export function jobCheckpointDir(clusterDir: string, jobName: string): string {
  return `${clusterDir.replace(/\/+$/, '')}/${jobName.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** `file:///x`, `file:/x` or `/x` → `/x`; any other scheme → null (not readable from here). */
export function localPath(dirOrUri: string): string | null {
  if (dirOrUri.startsWith('file:')) return fileURLToPath(dirOrUri.replace(/^file:\/*/, 'file:///'));
  if (/^[a-z][a-z0-9+.-]*:\//i.test(dirOrUri)) return null;
  return dirOrUri;
}

/**
 * The newest restorable checkpoint under `dir`: `dir` may be a chk-<n> folder itself, a job id
 * folder (`…/<job id>/chk-<n>`), or a folder of those (`…/<job name>/<job id>/chk-<n>`). Newest =
 * latest `_metadata` write, then the higher checkpoint id. Null when there is none.
 */
export async function latestCheckpoint(dir: string): Promise<RetainedCheckpoint | null> {
  const root = localPath(dir);
  if (root === null)
    throw new TickflowError(
      'flink_nothing_to_restore',
      `cannot look for checkpoints in ${dir}: only local paths (file://) can be searched; pass the chk-<n> folder with --from-savepoint`,
    );
  if (!existsSync(root)) return null;
  const found: RetainedCheckpoint[] = [];
  const visit = async (folder: string, depth: number): Promise<void> => {
    const name = folder.split('/').pop() ?? '';
    const chk = /^chk-(\d+)$/.exec(name);
    if (chk !== null) {
      const metadata = join(folder, '_metadata');
      if (!existsSync(metadata)) return;
      const parent = folder.split('/').slice(-2, -1)[0] ?? '';
      found.push({ path: folder, id: Number(chk[1]), jobId: /^[0-9a-f]{32}$/.test(parent) ? parent : null, completedAt: (await stat(metadata)).mtime });
      return;
    }
    if (depth === 0) return;
    let entries: string[];
    try {
      entries = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    // Flink's own folders next to chk-<n> hold state files, never checkpoints.
    for (const e of entries) if (e !== 'shared' && e !== 'taskowned') await visit(join(folder, e), depth - 1);
  };
  await visit(root.replace(/\/+$/, '') || '/', 2);
  found.sort((a, b) => b.completedAt.getTime() - a.completedAt.getTime() || b.id - a.id);
  return found[0] ?? null;
}
