/**
 * Checks a user name and password against the registry, throttled. Unknown users, wrong
 * passwords and disabled accounts get the same answer after the same work (a hash verification).
 */
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
  constructor(
    private readonly directory: UserDirectory,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditSink,
  ) {}

  async verify(user: string, password: string, ctx: CallContext): Promise<UserRecord> {
    const address = peerAddress(ctx.peer);
    const lockedMs = await this.throttle.lockedFor(user, address);
    if (lockedMs > 0) {
      throw new AuthenticationFailure(
        `too many failed logins for this account or address; try again in ${Math.ceil(lockedMs / 1000)} s`,
        'locked out',
        user,
      );
    }
    // The password hash is always read fresh: a login must see a changed password at once.
    const record = Buffer.byteLength(user) <= 128
      ? await this.directory.registry.getUser(user).catch((err: unknown) => {
          this.directory.invalidateAll();
          throw err;
        })
      : undefined;
    const tooLong = Buffer.byteLength(password) > MAX_PASSWORD_BYTES;
    const matches = await verifyPassword(record?.passwordHash ?? (await dummyPasswordHash()), tooLong ? '' : password);
    if (record && matches && !record.disabled && !tooLong) {
      await this.throttle.success(user, address);
      return record;
    }
    const verdict = await this.throttle.failure(user, address);
    const reason = !record ? 'unknown user' : record.disabled ? 'account disabled' : 'wrong password';
    if (verdict.lockedOut) {
      this.audit.record({
        event: 'auth.lockout', outcome: 'denied', principal: verdict.lockedOut === 'account' ? user : undefined,
        peer: ctx.peer, rpc: ctx.rpc, reason: `${verdict.lockedOut} locked after repeated failures`,
      });
    }
    if (verdict.delayMs > 0) await sleep(verdict.delayMs);
    throw new AuthenticationFailure(BAD_LOGIN_MESSAGE, reason, user);
  }
}
