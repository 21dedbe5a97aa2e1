import { type Command, Option } from 'commander';
import { DashboardConfigError, DEFAULT_HOST, DEFAULT_PORT, startDashboard, type Dashboard, type DashboardOptions } from '../server/dashboard-server.ts';
import type { ConfigFile } from './config-file.ts';
import { intFlag } from './parse-flags.ts';
import { UsageError } from './usage-error.ts';

export interface DashboardFlags {
  port?: number;
  host?: string;
  token?: string;
}

/** --port, --host, --token: shared by `run` (which serves unless --no-dashboard) and `serve`. */
export function dashboardOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--port <n>', `dashboard port (default ${DEFAULT_PORT})`).argParser(intFlag('--port', 0, 65_535)).env('TICKFLOW_PORT'))
    .addOption(new Option('--host <addr>', `dashboard address (default ${DEFAULT_HOST}; off loopback needs --token)`).env('TICKFLOW_HOST'))
    .addOption(new Option('--token <secret>', 'require this token (Bearer header, or open /?token=…)').env('TICKFLOW_TOKEN'));
}

/** Flags > environment > config file > defaults; then listen, with user mistakes as UsageError (exit 2). */
export async function startCliDashboard(
  flags: DashboardFlags,
  file: ConfigFile,
  o: Pick<DashboardOptions, 'db' | 'feed' | 'log'>,
): Promise<Dashboard> {
  const port = flags.port ?? file.dashboard?.port;
  try {
    return await startDashboard({
      ...o,
      host: flags.host ?? file.dashboard?.host ?? DEFAULT_HOST,
      port: port ?? DEFAULT_PORT,
      portIsDefault: port === undefined,
      token: flags.token === undefined || flags.token === '' ? null : flags.token,
    });
  } catch (e) {
    if (e instanceof DashboardConfigError) throw new UsageError(e.message);
    throw e;
  }
}
