/**
 * Brute-force throttle for password logins, per account and per client address: after a few
 * free failures each further one is delayed (doubling), and a run of failures locks the account
 * or address for a while. With the defaults (10 failures, 6 min lockout) an account sees at most
 * 100 failed guesses an hour. The counts live in an AttemptCounter: this process's memory, or Redis
 * shared by the replicas. Unknown accounts are throttled like known ones.
 */
import type { ThrottleConfig } from '../config/schema.js';
import type { AttemptCounter } from '../stores/attempt-counter.js';

export interface FailureVerdict {
  /** How long to hold the failed answer back. */
  delayMs: number;
  /** Set when this failure started a lockout. */
  lockedOut?: 'account' | 'address';
}

/** Failures are counted in a row: a success clears them, and so does an hour without failures. */
const COUNT_WINDOW_MS = 3_600_000;

export class LoginThrottle {
  constructor(
    private readonly config: ThrottleConfig,
    private readonly counter: AttemptCounter,
  ) {}

  /** Milliseconds until the account or address may try again, or 0. */
  lockedFor(user: string, address: string): Promise<number> {
    return this.counter.lockedFor([`u:${user}`, `a:${address}`]);
  }

  async failure(user: string, address: string): Promise<FailureVerdict> {
    const [account = 0, peer = 0] = await this.counter.increment([`u:${user}`, `a:${address}`], COUNT_WINDOW_MS);
    let lockedOut: FailureVerdict['lockedOut'];
    const lockMs = this.config.lockoutSeconds * 1000;
    if (account >= this.config.lockoutFailures) {
      await this.counter.lock(`u:${user}`, lockMs);
      await this.counter.clear([`u:${user}`]);
      lockedOut = 'account';
    }
    if (peer >= this.config.peerLockoutFailures) {
      await this.counter.lock(`a:${address}`, lockMs);
      await this.counter.clear([`a:${address}`]);
      lockedOut ??= 'address';
    }
    const extra = Math.max(account, peer) - this.config.freeFailures;
    const delayMs = extra > 0 ? Math.min(this.config.maxDelayMs, this.config.baseDelayMs * 2 ** (extra - 1)) : 0;
    return lockedOut ? { delayMs, lockedOut } : { delayMs };
  }

  success(user: string, address: string): Promise<void> {
    return this.counter.clear([`u:${user}`, `a:${address}`]);
  }
}

/** The address part of a peer `ip:port`. */
export function peerAddress(peer: string): string {
  const i = peer.lastIndexOf(':');
  return i > 0 ? peer.slice(0, i) : peer;
}
