import { TickflowError } from '../../tickflow-error.ts';

/** Where forwarded alerts go: `webhook:URL` (the alert JSON as published) or `slack:URL` (incoming-webhook text). */
export interface Target {
  readonly kind: 'webhook' | 'slack';
  readonly url: URL;
}

export const TARGET_KINDS = ['webhook', 'slack'] as const;

/**
 * Parses `--to`. Throws with the problem only (the settings resolver says which flag or
 * variable it was), and never echoes the URL: a Slack webhook's path is its secret.
 */
export function parseTarget(text: string): Target {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  if (!(TARGET_KINDS as readonly string[]).includes(kind)) {
    const named = colon < 0 ? 'names no kind' : `has the unknown kind "${kind.slice(0, 20)}"`;
    throw new TickflowError('bad_config', `${named}: use webhook:URL or slack:URL`);
  }
  const rest = text.slice(colon + 1);
  let url: URL;
  try {
    url = new URL(rest);
  } catch {
    throw new TickflowError('bad_config', `has no valid URL after "${kind}:" (expected ${kind}:https://host/path)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TickflowError(
      'bad_config',
      `has the scheme "${url.protocol.replace(/:$/, '').slice(0, 20)}" after "${kind}:"; only http and https URLs are sent to`,
    );
  }
  return { kind: kind as Target['kind'], url };
}

/** The target as it may be printed: scheme, host and port only (paths and queries carry tokens). */
export function describeTarget(t: Target): string {
  const hidden = t.url.pathname.length > 1 || t.url.search !== '' ? '/…' : '';
  return `${t.kind}:${t.url.protocol}//${t.url.host}${hidden}`;
}
