/** Refresh tokens (`fgr_…`): opaque, stored as SHA-256, rotated on every use, in families. */
import { randomUUID } from 'node:crypto';
import type { RefreshFamily, RefreshTokenStore } from '../stores/refresh-token-store.js';
import { newOpaqueToken, tokenId } from '../core/opaque-token.js';
import { invalidGrant } from './oauth-error.js';

export const REFRESH_TOKEN_PREFIX = 'fgr_';

export interface RefreshTimings {
  readonly refreshTokenLifetimeSeconds: number;
  readonly refreshReuseGraceSeconds: number;
}

export class RefreshTokens {
  constructor(
    private readonly store: RefreshTokenStore,
    private readonly timings: RefreshTimings,
    /** Called when a reused token revokes its family (an audit event, an alert). */
    private readonly onReuse: (family: RefreshFamily) => void,
    /** Called when a used token is accepted again within the grace (an audit event). */
    private readonly onGraceUse: (family: RefreshFamily) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a family and returns its first token; `notAfterMs` ends the family earlier than its usual lifetime. */
  async start(family: Omit<RefreshFamily, 'familyId' | 'createdAt' | 'expiresAt' | 'revokedAt'>, notAfterMs = Infinity): Promise<string> {
    const token = newOpaqueToken(REFRESH_TOKEN_PREFIX);
    const now = this.now();
    const expiresAt = Math.min(now + this.timings.refreshTokenLifetimeSeconds * 1000, notAfterMs);
    await this.store.create({ ...family, familyId: randomUUID(), createdAt: now, expiresAt }, tokenId(token));
    return token;
  }

  /**
   * Uses `token` and returns its successor; `clientId` is the authenticated client, if any.
   * `precheck` may refuse the family (its user was disabled, say) before the token is used up.
   */
  async rotate(token: string, clientId: string | undefined, precheck?: (family: RefreshFamily) => Promise<void>): Promise<{ token: string; family: RefreshFamily }> {
    if (!token.startsWith(REFRESH_TOKEN_PREFIX) || token.length > 256) throw invalidGrant('refresh token is invalid, expired or revoked');
    const hash = tokenId(token);
    // The client binding is checked before the token is used, so another client cannot burn it.
    const found = await this.store.familyOf(hash);
    if (found && found.family.clientId !== clientId) throw invalidGrant('refresh token was issued to another client');
    if (found && precheck) await precheck(found.family);
    const successor = newOpaqueToken(REFRESH_TOKEN_PREFIX);
    const result = await this.store.rotate(hash, tokenId(successor), this.now(), this.timings.refreshReuseGraceSeconds * 1000);
    switch (result.kind) {
      case 'rotated':
        if (result.grace) this.onGraceUse(result.family);
        return { token: successor, family: result.family };
      case 'graceExhausted':
        throw invalidGrant('refresh token was already used; use the refresh token from its last response');
      case 'reused':
        this.onReuse(result.family);
        throw invalidGrant('refresh token was already used; every token of its family is now revoked');
      default:
        throw invalidGrant('refresh token is invalid, expired or revoked');
    }
  }

  /** What a refresh token stands for, if it is live (introspection). */
  async inspect(token: string): Promise<RefreshFamily | undefined> {
    if (!token.startsWith(REFRESH_TOKEN_PREFIX) || token.length > 256) return undefined;
    const found = await this.store.familyOf(tokenId(token));
    if (!found || found.used || found.family.revokedAt !== undefined || found.family.expiresAt <= this.now()) return undefined;
    return found.family;
  }

  /** Revokes the family of `token` (RFC 7009); returns the family, or undefined for an unknown token. */
  async revoke(token: string, reason: string): Promise<RefreshFamily | undefined> {
    if (!token.startsWith(REFRESH_TOKEN_PREFIX) || token.length > 256) return undefined;
    const found = await this.store.familyOf(tokenId(token));
    if (!found) return undefined;
    await this.store.revokeFamily(found.family.familyId, this.now(), reason);
    return found.family;
  }

  familyOf(token: string): Promise<{ family: RefreshFamily; used: boolean } | undefined> {
    if (!token.startsWith(REFRESH_TOKEN_PREFIX) || token.length > 256) return Promise.resolve(undefined);
    return this.store.familyOf(tokenId(token));
  }
}
