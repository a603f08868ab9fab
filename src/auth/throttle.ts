/**
 * Brute-force throttle for password logins. Three subjects are counted for every attempt:
 *  - the account at this client address: a run of failures (10) locks that pair for a while
 *    (6 min), so an attacker at one address cannot lock the owner out from another;
 *  - the account as a whole: at most `accountFailuresPerHour` failures an hour from addresses it
 *    never logged in from, which bounds distributed guessing; addresses with a recent success
 *    ("known") are exempt from this bound, so a spray from elsewhere does not lock the owner out;
 *  - the client address: a run of failures over any accounts locks the address. A success for
 *    one account does not clear it, so self-logins cannot hide a spray over other accounts.
 * Each attempt is reserved before its password is verified (atomically, in memory or in Redis
 * shared by the replicas), and refused at once, without hashing, when a subject is locked or
 * when the failures so far plus the attempts in flight could reach its lockout. After a few free
 * failures each further one is answered late (doubling), holding its slot meanwhile.
 */
import { createHash } from 'node:crypto';
import type { ThrottleConfig } from '../config/schema.js';
import { resourceExhausted } from '../core/errors.js';
import type { AttemptCounter, AttemptOutcome, SubjectLimits } from '../stores/attempt-counter.js';
import { AuthenticationFailure } from './authentication-failure.js';

export interface FailureVerdict {
  /** How long to hold the failed answer back. */
  delayMs: number;
  /** Set when this failure started a lockout. */
  lockedOut?: 'account' | 'account-wide' | 'address';
}

/** A reserved login attempt: end it exactly once. */
export interface LoginAttempt {
  succeeded(): Promise<void>;
  /** Counts the failure; the caller waits `delayMs` and then calls `finished`. */
  failed(): Promise<FailureVerdict>;
  /** Frees the slot after `failed` (once the delayed answer has gone). */
  finished(): Promise<void>;
  /** Ends the attempt without counting it (the registry failed, say). */
  abandon(): Promise<void>;
}

const HOUR_MS = 3_600_000;

export const lockedMessage = (ms: number): string =>
  `too many failed logins for this account or address; try again in ${Math.max(1, Math.ceil(ms / 1000))} s`;
export const BUSY_MESSAGE = 'too many logins for this account or address are in progress; try again in a few seconds';

type SubjectName = 'account' | 'account-wide' | 'address';

interface Subject {
  readonly name: SubjectName;
  readonly key: string;
  readonly limits: SubjectLimits;
}

/** Subjects are stored under a digest: no user name or address reaches a shared store. */
const digest = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);

export class LoginThrottle {
  private inFlight = 0;
  private readonly pairLimits: SubjectLimits;
  private readonly accountLimits: SubjectLimits;
  private readonly addressLimits: SubjectLimits;

  constructor(
    private readonly config: ThrottleConfig,
    private readonly counter: AttemptCounter,
    private readonly now: () => number = Date.now,
  ) {
    const lockMs = config.lockoutSeconds * 1000;
    this.pairLimits = { maxFailures: config.lockoutFailures, maxInFlight: config.maxInFlightPerAccount, lockMs, windowMs: HOUR_MS };
    this.accountLimits = { maxFailures: config.accountFailuresPerHour, maxInFlight: config.maxInFlightPerAccount, lockMs: HOUR_MS, windowMs: HOUR_MS };
    this.addressLimits = { maxFailures: config.peerLockoutFailures, maxInFlight: config.maxInFlightPerAddress, lockMs, windowMs: HOUR_MS };
  }

  /**
   * Reserves an attempt for `user` from `address`, or throws: UNAUTHENTICATED with the throttle's
   * message when a subject is locked or busy, RESOURCE_EXHAUSTED when this server is verifying
   * too many logins at once.
   */
  async begin(user: string, address: string): Promise<LoginAttempt> {
    if (this.inFlight >= this.config.maxLoginsInFlight) {
      throw resourceExhausted(`too many logins are being verified on this server right now (auth.throttle.maxLoginsInFlight = ${this.config.maxLoginsInFlight}); try again shortly`);
    }
    this.inFlight++;
    try {
      return await this.reserve(user, address);
    } catch (err) {
      this.inFlight--;
      throw err;
    }
  }

  private async reserve(user: string, address: string): Promise<LoginAttempt> {
    const now = this.now();
    const pair: Subject = { name: 'account', key: `p:${digest(user, address)}`, limits: this.pairLimits };
    const first = await this.counter.reserve(pair.key, pair.limits, now);
    if (first.kind !== 'reserved') throw refusal(first.kind === 'locked' ? first.retryMs : undefined, 'account at this address');
    const others: Subject[] = [{ name: 'address', key: `a:${digest(address)}`, limits: this.addressLimits }];
    if (!first.known) others.push({ name: 'account-wide', key: `u:${digest(user)}`, limits: this.accountLimits });
    const results = await Promise.allSettled(others.map((s) => this.counter.reserve(s.key, s.limits, now)));
    const held: Subject[] = [pair];
    let refused: { retryMs?: number; subject: SubjectName } | undefined;
    let error: unknown;
    results.forEach((r, i) => {
      if (r.status === 'rejected') error ??= r.reason;
      else if (r.value.kind === 'reserved') held.push(others[i]!);
      else refused ??= { retryMs: r.value.kind === 'locked' ? r.value.retryMs : undefined, subject: others[i]!.name };
    });
    if (error !== undefined || refused) {
      await this.releaseAll(held, { kind: 'released' }).catch(() => undefined);
      if (error !== undefined) throw error;
      throw refusal(refused!.retryMs, refused!.subject);
    }
    return this.attempt(held);
  }

  private attempt(held: readonly Subject[]): LoginAttempt {
    let ended = false;
    // This process's slot is held until the (possibly delayed) answer has gone, which bounds the
    // timers a burst can leave waiting; the store's in-flight marks go when the outcome is counted.
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.inFlight--;
    };
    const release = (outcome: (s: Subject) => AttemptOutcome) => {
      const now = this.now();
      return Promise.all(held.map((s) => this.counter.release(s.key, outcome(s), s.limits, now).then((r) => ({ s, r }))));
    };
    return {
      succeeded: async () => {
        const knownUntil = this.now() + this.config.knownAddressDays * 86_400_000;
        try {
          // Only the account at this address is cleared: the address and account-wide counts stand.
          await release((s) => (s.name === 'account' ? { kind: 'cleared', knownUntil } : { kind: 'released' }));
        } finally {
          end();
        }
      },
      failed: async () => {
        let results;
        try {
          results = await release(() => ({ kind: 'failure' }));
        } catch (err) {
          end();
          throw err;
        }
        let lockedOut: FailureVerdict['lockedOut'];
        let most = 0;
        for (const { s, r } of results) {
          if (r.locked) lockedOut ??= s.name;
          if (s.name !== 'account-wide') most = Math.max(most, r.locked ? s.limits.maxFailures : r.failures);
        }
        const extra = most - this.config.freeFailures;
        const delayMs = extra > 0 ? Math.min(this.config.maxDelayMs, this.config.baseDelayMs * 2 ** (extra - 1)) : 0;
        return lockedOut ? { delayMs, lockedOut } : { delayMs };
      },
      finished: async () => end(),
      abandon: async () => {
        try {
          await release(() => ({ kind: 'released' }));
        } finally {
          end();
        }
      },
    };
  }

  private async releaseAll(subjects: readonly Subject[], outcome: AttemptOutcome): Promise<void> {
    const now = this.now();
    await Promise.all(subjects.map((s) => this.counter.release(s.key, outcome, s.limits, now)));
  }
}

function refusal(retryMs: number | undefined, subject: string): AuthenticationFailure {
  return retryMs !== undefined
    ? new AuthenticationFailure(lockedMessage(retryMs), `locked out (${subject})`)
    : new AuthenticationFailure(BUSY_MESSAGE, `throttled: logins in progress (${subject})`);
}

/** The address part of a peer `ip:port`. */
export function peerAddress(peer: string): string {
  const i = peer.lastIndexOf(':');
  return i > 0 ? peer.slice(0, i) : peer;
}
