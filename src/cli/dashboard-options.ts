import type { Command } from 'commander';
import { checkAccess, type Dashboard, type DashboardOptions, startDashboard } from '../server/dashboard-server.ts';
import { rawSetting } from '../config/resolve.ts';
import { addSettings, layersOf, settingsOf } from './options.ts';

/** --port, --host, --token: shared by `run` (which serves unless --no-dashboard) and `serve`. */
export function dashboardOptions(cmd: Command): Command {
  return addSettings(cmd, ['port', 'host', 'token']);
}

/** Listens where the settings say; a port given by no layer may move to a free one. */
export async function startCliDashboard(cmd: Command, o: Pick<DashboardOptions, 'db' | 'feed' | 'log'>): Promise<Dashboard> {
  const s = dashboardAccessOf(cmd);
  const portIsDefault = rawSetting('port', layersOf(cmd)) === undefined;
  return startDashboard({ ...o, ...s, portIsDefault });
}

/** The dashboard's host, port and token, checked (a weak token, an open host without one): before anything is contacted. */
export function dashboardAccessOf(cmd: Command): { host: string; port: number; token: string | null } {
  const s = settingsOf(cmd, ['port', 'host', 'token']);
  const token = s.token === undefined || s.token === '' ? null : s.token;
  checkAccess(s.host, token);
  return { host: s.host, port: s.port, token };
}
