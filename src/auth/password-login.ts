/**
 * Checks a user name and password against the registry, throttled. Unknown users, wrong
 * passwords and disabled accounts get the same answer after the same work (a hash verification).
 * The attempt is reserved with the throttle before any hashing, so a burst of guesses cannot
 * all be verified before the first failure counts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { AuditSink } from '../audit/audit-log.js';
import { AuthenticationFailure } from './authentication-failure.js';
import type { UserRecord } from '../stores/registry.js';
import type { CallContext } from './authenticator.js';
import { dummyPasswordHash, MAX_PASSWORD_BYTES, verifyPassword } from './passwords.js';
import { peerAddress, type LoginThrottle } from './throttle.js';
import type { UserDirectory } from './user-directory.js';

export const BAD_LOGIN_MESSAGE = 'invalid user name or password';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PasswordLogin {
  /**
   * Verifications in progress, by a keyed digest of the exact credentials and address: the same
   * login sent many times at once (fifty workers of one job starting together) is verified once
   * and counted once, so it neither fills the throttle's in-flight bound nor costs fifty hashes.
   * Distinct guesses never share an entry.
   */
  private readonly inProgress = new Map<string, Promise<UserRecord>>();
  private readonly coalesceKey = randomBytes(32);

  constructor(
    private readonly directory: UserDirectory,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditSink,
  ) {}

  /** `password` undefined: bytes that are not valid UTF-8, which match no password. */
  verify(user: string, password: string | undefined, ctx: CallContext): Promise<UserRecord> {
    if (password === undefined) return this.verifyOnce(user, password, ctx);
    const key = createHmac('sha256', this.coalesceKey).update(user).update('\u0000').update(peerAddress(ctx.peer)).update('\u0000').update(password).digest('base64url');
    const running = this.inProgress.get(key);
    if (running) return running;
    const started = this.verifyOnce(user, password, ctx).finally(() => this.inProgress.delete(key));
    this.inProgress.set(key, started);
    return started;
  }

  private async verifyOnce(user: string, password: string | undefined, ctx: CallContext): Promise<UserRecord> {
    const attempt = await this.throttle.begin(user, peerAddress(ctx.peer));
    let record: UserRecord | undefined;
    let matches: boolean;
    try {
      // The password hash is always read fresh: a login must see a changed password at once.
      record = Buffer.byteLength(user) <= 128
        ? await this.directory.users.get(user).catch((err: unknown) => {
            this.directory.invalidateAll();
            throw err;
          })
        : undefined;
      const usable = password !== undefined && Buffer.byteLength(password) <= MAX_PASSWORD_BYTES;
      matches = await verifyPassword(record?.passwordHash ?? (await dummyPasswordHash()), usable ? password : '');
      matches &&= usable;
    } catch (err) {
      await attempt.abandon().catch(() => undefined);
      throw err;
    }
    if (record && matches && !record.disabled) {
      await attempt.succeeded();
      return record;
    }
    const verdict = await attempt.failed();
    try {
      const reason = !record ? 'unknown user' : record.disabled ? 'account disabled' : 'wrong password';
      if (verdict.lockedOut) {
        const what = { account: 'account locked for this address', 'account-wide': 'account locked for new addresses', address: 'address locked' }[verdict.lockedOut];
        this.audit.record({
          event: 'auth.lockout', outcome: 'denied', principal: verdict.lockedOut === 'address' ? undefined : user,
          peer: ctx.peer, rpc: ctx.rpc, reason: `${what} after repeated failures`,
        });
      }
      if (verdict.delayMs > 0) await sleep(verdict.delayMs);
      throw new AuthenticationFailure(BAD_LOGIN_MESSAGE, reason, user);
    } finally {
      await attempt.finished();
    }
  }
}
