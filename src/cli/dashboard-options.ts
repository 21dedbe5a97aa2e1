import type { Command } from 'commander';
import { type Dashboard, type DashboardOptions, startDashboard } from '../server/dashboard-server.ts';
import { rawSetting } from '../config/resolve.ts';
import { addSettings, layersOf, settingsOf } from './options.ts';

/** --port, --host, --token: shared by `run` (which serves unless --no-dashboard) and `serve`. */
export function dashboardOptions(cmd: Command): Command {
  return addSettings(cmd, ['port', 'host', 'token']);
}

/** Listens where the settings say; a port given by no layer may move to a free one. */
export async function startCliDashboard(cmd: Command, o: Pick<DashboardOptions, 'db' | 'feed' | 'log'>): Promise<Dashboard> {
  const s = settingsOf(cmd, ['port', 'host', 'token']);
  const portIsDefault = rawSetting('port', layersOf(cmd)) === undefined;
  return startDashboard({ ...o, host: s.host, port: s.port, portIsDefault, token: s.token === undefined || s.token === '' ? null : s.token });
}
