import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

/** lightweight-charts' standalone build (its licence header is kept: the attribution it asks for). */
function chartsLibraryPath(): string {
  const pkg = fileURLToPath(import.meta.resolve('lightweight-charts/package.json'));
  return join(dirname(pkg), 'dist', 'lightweight-charts.standalone.production.js');
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The dashboard's files, read once at start: a handful of small files, served from memory. */
export function loadWebAssets(): Map<string, Asset> {
  const files: [string, string][] = [
    ['/', join(WEB_DIR, 'index.html')],
    ['/assets/app.js', join(WEB_DIR, 'app.js')],
    ['/assets/chart-view.js', join(WEB_DIR, 'chart-view.js')],
    ['/assets/alert-feed.js', join(WEB_DIR, 'alert-feed.js')],
    ['/assets/format.js', join(WEB_DIR, 'format.js')],
    ['/assets/watchlist-view.js', join(WEB_DIR, 'watchlist-view.js')],
    ['/assets/alert-filters.js', join(WEB_DIR, 'alert-filters.js')],
    ['/assets/style.css', join(WEB_DIR, 'style.css')],
    ['/assets/lightweight-charts.js', chartsLibraryPath()],
  ];
  const assets = new Map<string, Asset>();
  for (const [route, path] of files) {
    const ext = path.slice(path.lastIndexOf('.') + 1);
    assets.set(route, { body: readFileSync(path), type: TYPES[ext] ?? 'application/octet-stream' });
  }
  return assets;
}
