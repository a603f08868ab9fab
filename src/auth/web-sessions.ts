/**
 * Browser sessions after an OIDC sign-in: an opaque `fgw_` token in an HttpOnly cookie, kept in
 * the session store (shared by replicas) under its hash like bearer sessions, but never accepted
 * as a bearer (the session authenticator takes only `fgs_` tokens). Each session has a CSRF token
 * derived from it with a server key, so forms need no stored secret and every replica checks them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { newOpaqueToken, tokenId } from '../core/opaque-token.js';
import type { Principal } from '../core/principal.js';
import { principalKey } from '../core/principal.js';
import type { SessionStore } from '../stores/session-store.js';

export const WEB_SESSION_PREFIX = 'fgw_';

export interface WebIdentity {
  readonly issuer: string;
  readonly subject: string;
  readonly roles: readonly string[];
}

export interface WebSession {
  readonly id: string;
  readonly principal: Principal;
  readonly csrf: string;
  readonly expiresAt: number;
}

export interface WebSessionTimes {
  readonly lifetimeMs: number;
  readonly idleMs: number;
}

/** Reads back the issuer and subject a session's `user` holds (principalKey of an external principal). */
function identityOf(user: string): { issuer: string; subject: string } | undefined {
  const m = /^external:(.*)#([^#]+)$/.exec(user);
  return m ? { issuer: m[1]!, subject: m[2]! } : undefined;
}

export class WebSessions {
  constructor(
    private readonly store: SessionStore,
    private readonly csrfKey: Buffer,
    private readonly times: WebSessionTimes,
  ) {}

  /** Starts a session for a signed-in person; returns the cookie's token (a fresh one at every sign-in). */
  async open(identity: WebIdentity, now = Date.now()): Promise<string> {
    const token = newOpaqueToken(WEB_SESSION_PREFIX);
    const user = principalKey({ kind: 'external', issuer: identity.issuer, id: identity.subject });
    await this.store.put(tokenId(token), { user, roles: [...identity.roles], createdAt: now, expiresAt: now + this.times.lifetimeMs, idleMs: this.times.idleMs, lastSeenAt: now });
    return token;
  }

  /** The live session a cookie names, or undefined; use pushes its idle deadline out. */
  async find(token: string | undefined, now = Date.now()): Promise<WebSession | undefined> {
    if (!token || !token.startsWith(WEB_SESSION_PREFIX) || token.length > 128) return undefined;
    const id = tokenId(token);
    const record = await this.store.get(id, now);
    const who = record && identityOf(record.user);
    if (!record || !who) return undefined;
    await this.store.touch(id, now);
    return {
      id,
      principal: { kind: 'external', issuer: who.issuer, id: who.subject, roles: record.roles, method: 'web', sessionId: id },
      csrf: this.csrfOf(id),
      expiresAt: record.expiresAt,
    };
  }

  /** Whether a form's CSRF token is this session's. */
  checkCsrf(session: WebSession, given: unknown): boolean {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given);
    const b = Buffer.from(session.csrf);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async close(session: WebSession): Promise<void> {
    await this.store.delete(session.id);
  }

  private csrfOf(id: string): string {
    return createHmac('sha256', this.csrfKey).update('flightgate web csrf\0').update(id).digest('base64url');
  }
}
