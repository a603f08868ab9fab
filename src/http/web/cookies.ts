/**
 * The sign-in's cookies: HttpOnly, SameSite=Lax, Path=/; under TLS Secure with the `__Host-`
 * prefix (no Domain, so no sibling host can set or read them). The pending-login cookie is sealed
 * with an HMAC so the browser cannot alter what the callback will check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface CookieNames {
  readonly session: string;
  readonly login: string;
}

export const cookieNames = (secure: boolean): CookieNames =>
  secure ? { session: '__Host-fg_session', login: '__Host-fg_login' } : { session: 'fg_session', login: 'fg_login' };

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function setCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure ? '; Secure' : ''}`;
}

export const clearCookie = (name: string, secure: boolean): string => setCookie(name, '', 0, secure);

/** `payload` sealed: base64url(JSON).MAC, expiring at `expiresAt` (ms). */
export function seal(key: Buffer, payload: object, expiresAt: number): string {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: expiresAt })).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The payload of a sealed value, or undefined when it was altered, is not ours, or has expired. */
export function unseal(key: Buffer, value: string | undefined, now = Date.now()): Record<string, unknown> | undefined {
  if (!value || value.length > 4096) return undefined;
  const [body = '', mac = '', ...rest] = value.split('.');
  if (rest.length) return undefined;
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof parsed.exp === 'number' && parsed.exp > now ? parsed : undefined;
  } catch {
    return undefined;
  }
}
