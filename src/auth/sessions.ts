/**
 * Session tokens: issued at login, checked on every call, ended by absolute lifetime, idle
 * timeout, revocation, or a change to the user (disabled, deleted, new password). Past a share
 * of its lifetime a token is rotated: the call's response carries a fresh one and the old one
 * keeps working only for a short grace period.
 */
import type { AuditSink } from '../audit/audit-log.js';
import type { AuthConfig } from '../config/schema.js';
import { failedPrecondition, unauthenticated } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { UserRecord } from '../stores/registry.js';
import type { SessionRecord, SessionStore } from '../stores/session-store.js';
import type { AuthOutcome, CallContext, IssuedToken } from './authenticator.js';
import { newOpaqueToken, SESSION_TOKEN_PREFIX, tokenId } from '../core/opaque-token.js';
import type { UserDirectory } from './user-directory.js';

export const SESSION_ENDED_MESSAGE = 'session token is invalid, expired or revoked; log in again';

export type SessionTimings = Pick<
  AuthConfig,
  'sessionLifetimeSeconds' | 'sessionIdleSeconds' | 'sessionRotateAfter' | 'sessionRotationGraceSeconds'
>;

export class SessionManager {
  private readonly lifetimeMs: number;
  private readonly idleMs: number;
  private readonly rotateAtMs: number;
  private readonly graceMs: number;
  /** Writing the last-use time on every call would cost a store write per call; this bounds the error instead. */
  private readonly touchEveryMs: number;

  constructor(
    private readonly store: SessionStore,
    private readonly directory: UserDirectory,
    timings: SessionTimings,
    private readonly audit: AuditSink,
    private readonly now: () => number = Date.now,
  ) {
    this.lifetimeMs = timings.sessionLifetimeSeconds * 1000;
    this.idleMs = timings.sessionIdleSeconds * 1000;
    this.rotateAtMs = timings.sessionRotateAfter >= 1 ? Infinity : timings.sessionRotateAfter * this.lifetimeMs;
    this.graceMs = timings.sessionRotationGraceSeconds * 1000;
    this.touchEveryMs = Math.min(this.idleMs / 20, 5000);
  }

  get storeKind(): string {
    return this.store.kind;
  }

  async create(user: UserRecord, ctx: CallContext): Promise<IssuedToken> {
    return this.open(user, ctx, newOpaqueToken(SESSION_TOKEN_PREFIX));
  }

  private async open(user: UserRecord, ctx: CallContext, token: string, predecessor?: string): Promise<IssuedToken> {
    const id = tokenId(token);
    const now = this.now();
    const record: SessionRecord = {
      user: user.name,
      roles: user.roles,
      createdAt: now,
      expiresAt: now + this.lifetimeMs,
      idleMs: this.idleMs,
      lastSeenAt: now,
      ...(predecessor ? { predecessor } : {}),
    };
    await this.store.put(id, record);
    this.audit.record({ event: predecessor ? 'session.rotated' : 'session.created', outcome: 'ok', principal: user.name, peer: ctx.peer, rpc: ctx.rpc, session: id.slice(0, 12) });
    return { token, expiresIn: Math.floor(this.lifetimeMs / 1000) };
  }

  /**
   * Replaces session `id` with a fresh one, once: undefined when it was replaced already (by
   * another call or another replica), so a session never forks into several.
   */
  private async rotate(id: string, user: UserRecord, ctx: CallContext): Promise<IssuedToken | undefined> {
    const token = newOpaqueToken(SESSION_TOKEN_PREFIX);
    const now = this.now();
    if (!(await this.store.markRotated(id, now, now + this.graceMs, tokenId(token)))) return undefined;
    return this.open(user, ctx, token, id);
  }

  isSessionToken(token: string): boolean {
    return token.startsWith(SESSION_TOKEN_PREFIX);
  }

  /** Checks a presented token; throws UNAUTHENTICATED if it is not a live session of an enabled user. */
  async validate(token: string, ctx: CallContext): Promise<AuthOutcome> {
    if (!this.isSessionToken(token) || token.length > 256) throw unauthenticated(SESSION_ENDED_MESSAGE);
    const id = tokenId(token);
    const now = this.now();
    const record = await this.store.get(id, now);
    if (!record) throw unauthenticated(SESSION_ENDED_MESSAGE);
    const user = await this.directory.user(record.user, now);
    if (!user || user.disabled || record.createdAt < user.sessionsNotBefore) {
      await this.store.delete(id);
      this.audit.record({ event: 'session.revoked', outcome: 'ok', principal: record.user, peer: ctx.peer, rpc: ctx.rpc, session: id.slice(0, 12), reason: !user ? 'user deleted' : user.disabled ? 'user disabled' : 'credentials changed or sessions revoked' });
      throw unauthenticated(SESSION_ENDED_MESSAGE);
    }
    if (now - record.lastSeenAt >= this.touchEveryMs) await this.store.touch(id, now);
    const principal: Principal = { id: user.name, kind: 'user', method: 'session', roles: user.roles, sessionId: id };
    if (record.rotatedAt === undefined && now - record.createdAt >= this.rotateAtMs && ctx.canRotate !== false) {
      const issued = await this.rotate(id, user, ctx);
      if (issued) return { principal, issued };
    }
    return { principal };
  }

  /**
   * A fresh token for a live session; the old one then works only for the rotation grace. A
   * token that was already replaced is refused: refreshing it again would fork the session.
   */
  async refresh(principal: Principal, ctx: CallContext): Promise<IssuedToken> {
    const user = await this.directory.user(principal.id);
    if (!principal.sessionId || !user) throw unauthenticated('refresh needs a session token (log in with Handshake first)');
    const issued = await this.rotate(principal.sessionId, user, ctx);
    if (!issued) throw failedPrecondition('this session token was already replaced by a newer one, which is the one to refresh (the old one only works for a short grace)');
    return issued;
  }

  /** Ends one session (CloseSession, logout), with the token it replaced or that replaced it. */
  async revoke(sessionId: string, principal: string, ctx: CallContext): Promise<boolean> {
    const record = await this.store.get(sessionId, this.now());
    const deleted = await this.store.delete(sessionId);
    for (const linked of [record?.successor, record?.predecessor]) if (linked) await this.store.delete(linked);
    this.audit.record({ event: 'session.revoked', outcome: 'ok', principal, peer: ctx.peer, rpc: ctx.rpc, session: sessionId.slice(0, 12), reason: 'closed by the client' });
    return deleted;
  }

  /** Ends every session of a user in this store (the registry's sessions-not-before covers the rest). */
  async revokeUser(user: string, ctx: CallContext): Promise<number> {
    const n = await this.store.deleteUser(user);
    this.audit.record({ event: 'session.revoked', outcome: 'ok', principal: user, peer: ctx.peer, rpc: ctx.rpc, reason: `all sessions of the user (${n} in the store)` });
    return n;
  }
}
