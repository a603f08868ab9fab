/**
 * `authorization: Bearer fgk_…`: API keys for scripts. Looked up by SHA-256 through a cache of
 * `cacheMs`, so a revoked key stops working within that time on every server.
 */
import type { Principal } from '../core/principal.js';
import type { ApiKeyRecord, ApiKeyRegistry } from '../stores/api-key-registry.js';
import { AuthenticationFailure } from './authentication-failure.js';
import type { AuthOutcome } from './authenticator.js';
import type { BearerKind } from './bearer-router.js';
import { tokenId } from '../core/opaque-token.js';

export const API_KEY_PREFIX = 'fgk_';
const REJECTED = 'API key is invalid, expired or revoked';

export class ApiKeyAuthenticator implements BearerKind {
  readonly name = 'an API key (fgk_…)';
  private readonly cache = new Map<string, { at: number; value: Promise<ApiKeyRecord | undefined> }>();

  constructor(
    private readonly keys: ApiKeyRegistry,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  accepts(token: string): boolean {
    return token.startsWith(API_KEY_PREFIX);
  }

  private lookup(hash: string, t: number): Promise<ApiKeyRecord | undefined> {
    const hit = this.cache.get(hash);
    if (hit && t - hit.at < this.cacheMs) return hit.value;
    const value = this.keys.byHash(hash);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { at: t, value });
    value.catch(() => this.cache.clear());
    return value;
  }

  async authenticate(token: string): Promise<AuthOutcome> {
    if (token.length > 256) throw new AuthenticationFailure(REJECTED, 'api key malformed');
    const t = this.now();
    const key = await this.lookup(tokenId(token), t);
    if (!key) throw new AuthenticationFailure(REJECTED, 'api key unknown');
    if (key.revokedAt !== undefined) throw new AuthenticationFailure(REJECTED, 'api key revoked', `apikey:${key.name}`);
    if (key.expiresAt !== undefined && key.expiresAt <= t) throw new AuthenticationFailure(REJECTED, 'api key expired', `apikey:${key.name}`);
    const principal: Principal = { id: `apikey:${key.name}`, kind: 'apikey', method: 'apikey', roles: key.roles };
    return { principal };
  }
}
