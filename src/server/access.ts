import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';

/**
 * Who may read the dashboard. Bound to loopback without a token: only requests whose Host is a
 * loopback name are served (a page elsewhere cannot rebind its DNS name to 127.0.0.1 and read
 * the API). With a token (required off loopback): a bearer header, a cookie set from a
 * one-time `?token=` link, or `?token=` itself.
 */
export const TOKEN_COOKIE = 'tickflow_token';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** A token must survive a cookie and a header unchanged, and be long enough not to guess. */
export function tokenProblem(token: string): string | null {
  if (token.length < 16) return 'must be at least 16 characters';
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(token)) return 'may contain only letters, digits and . _ ~ + / = -';
  return null;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

export function accessControl(token: string | null): MiddlewareHandler {
  const expected = token === null ? null : digest(token);
  const matches = (candidate: string | null | undefined): boolean =>
    expected !== null && typeof candidate === 'string' && timingSafeEqual(digest(candidate), expected);
  return async (c, next) => {
    // Liveness probes carry no credentials and the answer reveals nothing.
    if (c.req.path === '/healthz') return next();
    if (expected === null) {
      const hostHeader = c.req.header('host') ?? '';
      const hostname = hostHeader.replace(/:\d+$/, '');
      if (!isLoopbackHost(hostname)) return c.json({ error: `host "${hostHeader.slice(0, 100)}" is not served; use 127.0.0.1 or localhost` }, 403);
      return next();
    }
    const auth = c.req.header('authorization');
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null;
    const fromQuery = c.req.query('token');
    const byQuery = matches(fromQuery);
    if (!byQuery && !matches(bearer) && !matches(cookieValue(c.req.header('cookie'), TOKEN_COOKIE))) {
      return c.json({ error: 'token required: send "Authorization: Bearer <token>" or open the dashboard at /?token=<token>' }, 401);
    }
    if (byQuery && c.req.method === 'GET' && c.req.path === '/') {
      // Trade the link's token for a cookie and drop it from the address bar (and from Referer).
      const url = new URL(c.req.url);
      url.searchParams.delete('token');
      c.header('Set-Cookie', `${TOKEN_COOKIE}=${fromQuery}; Path=/; HttpOnly; SameSite=Strict`);
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    return next();
  };
}
