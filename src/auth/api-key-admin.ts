/** Creating, listing and revoking API keys; a key is shown once and stored only as SHA-256. */
import { randomBytes } from 'node:crypto';
import { invalidArgument, notFound } from '../core/errors.js';
import type { ApiKeyRecord, ApiKeyRegistry } from '../stores/api-key-registry.js';
import { API_KEY_PREFIX } from './api-key-authenticator.js';
import { newOpaqueToken, tokenId } from '../core/opaque-token.js';
import { checkName } from '../core/account-names.js';

export interface ApiKeyView {
  readonly name: string;
  readonly roles: readonly string[];
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly state: 'active' | 'expired' | 'revoked';
  readonly label?: string;
}

export const apiKeyView = (k: ApiKeyRecord, now = Date.now()): ApiKeyView => ({
  name: k.name,
  roles: k.roles,
  created_at: new Date(k.createdAt).toISOString(),
  expires_at: k.expiresAt === undefined ? null : new Date(k.expiresAt).toISOString(),
  state: k.revokedAt !== undefined ? 'revoked' : k.expiresAt !== undefined && k.expiresAt <= now ? 'expired' : 'active',
  ...(k.label ? { label: k.label } : {}),
});

/** `90d`, `12h`, `30m` or `45s` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m) throw invalidArgument(`invalid duration "${text.slice(0, 40)}": use a number and s, m, h or d (e.g. 90d)`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export class ApiKeyAdmin {
  constructor(private readonly keys: ApiKeyRegistry) {}

  async create(name: string, roles: readonly string[], expiresInMs?: number): Promise<{ key: string; view: ApiKeyView }> {
    checkName('API key', name);
    if (roles.length === 0) throw invalidArgument('an API key needs at least one --role');
    const key = newOpaqueToken(API_KEY_PREFIX);
    const now = Date.now();
    const expiresAt = expiresInMs === undefined ? undefined : now + expiresInMs;
    await this.keys.add({ name, keyHash: tokenId(key), roles, expiresAt });
    return { key, view: apiKeyView({ name, keyHash: '', roles: [...new Set(roles)], createdAt: now, expiresAt }, now) };
  }

  async list(): Promise<ApiKeyView[]> {
    const now = Date.now();
    return (await this.keys.list()).map((k) => apiKeyView(k, now));
  }

  revoke(name: string): Promise<void> {
    return this.keys.revoke(name, Date.now());
  }

  /**
   * A personal access token: an API key `owner` makes for themselves, with some or all of their
   * own roles, expiring within the configured maximum. Its name is generated (names are global);
   * the owner's `label` is what they see.
   */
  async createOwned(owner: string, label: string, roles: readonly string[], ownRoles: readonly string[], expiresInMs: number): Promise<{ key: string; view: ApiKeyView }> {
    const clean = label.trim();
    if (!/^[\p{L}\p{N} ._-]{1,64}$/u.test(clean)) throw invalidArgument('a token name is 1 to 64 letters, digits, spaces, dots, dashes or underscores');
    const mine = new Set(ownRoles);
    const foreign = roles.filter((r) => !mine.has(r));
    if (foreign.length) throw invalidArgument(`you do not hold the role${foreign.length > 1 ? 's' : ''} ${foreign.join(', ')}`);
    if (roles.length === 0) throw invalidArgument('a token needs at least one of your roles');
    const key = newOpaqueToken(API_KEY_PREFIX);
    const now = Date.now();
    const name = `pat-${randomBytes(6).toString('hex')}`;
    await this.keys.add({ name, keyHash: tokenId(key), roles, expiresAt: now + expiresInMs, owner, label: clean });
    return { key, view: apiKeyView({ name, keyHash: '', roles: [...new Set(roles)], createdAt: now, expiresAt: now + expiresInMs, label: clean }, now) };
  }

  async listOwned(owner: string): Promise<ApiKeyView[]> {
    const now = Date.now();
    return (await this.keys.listOwned(owner)).map((k) => apiKeyView(k, now));
  }

  /** Revokes one of `owner`'s own tokens; another's is NOT_FOUND, as if it did not exist. */
  async revokeOwned(owner: string, name: string): Promise<void> {
    if (!(await this.keys.listOwned(owner)).some((k) => k.name === name)) throw notFound(`you have no token "${name.slice(0, 64)}"`);
    await this.keys.revoke(name, Date.now());
  }
}
