/**
 * Brute-force throttle for password logins, per account and per client address: after a few
 * free failures each further one is delayed (doubling), and a run of failures locks the account
 * or address for a while. With the defaults (10 failures, 6 min lockout) an account sees at most
 * 100 failed guesses an hour. Kept in this process; unknown accounts are throttled like known ones.
 */
import type { ThrottleConfig } from '../config/schema.js';

interface Counter {
  consecutive: number;
  lockedUntil: number;
}

export interface FailureVerdict {
  /** How long to hold the failed answer back. */
  delayMs: number;
  /** Set when this failure started a lockout. */
  lockedOut?: 'account' | 'address';
}

const MAX_TRACKED = 100_000;

export class LoginThrottle {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly config: ThrottleConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the account or address may try again, or 0. */
  lockedFor(user: string, address: string): number {
    const t = this.now();
    const until = Math.max(this.counters.get(`u:${user}`)?.lockedUntil ?? 0, this.counters.get(`a:${address}`)?.lockedUntil ?? 0);
    return until > t ? until - t : 0;
  }

  failure(user: string, address: string): FailureVerdict {
    const account = this.bump(`u:${user}`, this.config.lockoutFailures);
    const peer = this.bump(`a:${address}`, this.config.peerLockoutFailures);
    const n = Math.max(account.consecutive, peer.consecutive);
    const extra = n - this.config.freeFailures;
    const delayMs = extra > 0 ? Math.min(this.config.maxDelayMs, this.config.baseDelayMs * 2 ** (extra - 1)) : 0;
    const lockedOut = account.locked ? 'account' : peer.locked ? 'address' : undefined;
    return lockedOut ? { delayMs, lockedOut } : { delayMs };
  }

  success(user: string, address: string): void {
    this.counters.delete(`u:${user}`);
    this.counters.delete(`a:${address}`);
  }

  private bump(key: string, lockAfter: number): { consecutive: number; locked: boolean } {
    const t = this.now();
    let c = this.counters.get(key);
    if (!c) {
      if (this.counters.size >= MAX_TRACKED) this.prune(t);
      c = { consecutive: 0, lockedUntil: 0 };
      this.counters.set(key, c);
    }
    c.consecutive++;
    const consecutive = c.consecutive;
    if (c.consecutive >= lockAfter) {
      c.lockedUntil = t + this.config.lockoutSeconds * 1000;
      c.consecutive = 0;
      return { consecutive, locked: true };
    }
    return { consecutive, locked: false };
  }

  private prune(t: number): void {
    for (const [k, c] of this.counters) if (c.lockedUntil <= t) this.counters.delete(k);
    // Still full of live lockouts: forget the oldest entries rather than grow without bound.
    for (const k of this.counters.keys()) {
      if (this.counters.size < MAX_TRACKED) break;
      this.counters.delete(k);
    }
  }
}

/** The address part of a peer `ip:port`. */
export function peerAddress(peer: string): string {
  const i = peer.lastIndexOf(':');
  return i > 0 ? peer.slice(0, i) : peer;
}
