/**
 * Per-principal limits: a call rate (token bucket) and an upload quota (bytes per hour, also a
 * bucket), each off when its setting is 0. Counted in this process by default: with N replicas
 * behind a balancer a principal then gets up to N times the rate, which bounds abuse without a
 * shared store on every call. Given a shared counter (Redis), the call rate holds across replicas.
 */
import { resourceExhausted } from '../core/errors.js';
import { principalKey, type Principal } from '../core/principal.js';
import type { RateCounter } from '../core/rate-counter.js';

export interface UsageLimitsConfig {
  /** Calls per second per principal; 0 = no limit. */
  readonly callsPerSecond: number;
  /** Calls a principal may make at once after being idle (default: one second's worth). */
  readonly callBurst: number;
  /** Largest single DoPut, in bytes of FlightData received; 0 = no limit. */
  readonly maxUploadBytes: number;
  /** Bytes a principal may upload per hour, over all its DoPuts; 0 = no limit. */
  readonly uploadBytesPerHour: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/** Past this many tracked principals, full (idle) buckets are dropped: they would hold nothing. */
const PRUNE_AT = 50_000;

class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {}

  /** Takes `amount` from `key`'s bucket; false (and nothing taken) when it does not hold that much. */
  take(key: string, amount: number): boolean {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= PRUNE_AT) this.prune(now);
      b = { tokens: this.capacity, updated: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + ((now - b.updated) / 1000) * this.perSecond);
      b.updated = now;
    }
    if (b.tokens < amount) return false;
    b.tokens -= amount;
    return true;
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.updated) / 1000) * this.perSecond >= this.capacity) this.buckets.delete(k);
    }
  }
}

const mib = (n: number): string => (n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} bytes`);

export class UsageLimits {
  private readonly calls: TokenBuckets | undefined;
  private readonly uploads: TokenBuckets | undefined;

  constructor(
    private readonly config: UsageLimitsConfig,
    now: () => number = Date.now,
    /** Where the call rate is counted, when replicas share it; this process otherwise. */
    private readonly sharedCalls?: RateCounter,
  ) {
    if (config.callsPerSecond > 0) this.calls = new TokenBuckets(config.callBurst > 0 ? config.callBurst : config.callsPerSecond, config.callsPerSecond, now);
    if (config.uploadBytesPerHour > 0) this.uploads = new TokenBuckets(config.uploadBytesPerHour, config.uploadBytesPerHour / 3600, now);
  }

  get enabled(): boolean {
    return this.calls !== undefined || this.uploads !== undefined || this.config.maxUploadBytes > 0;
  }

  /**
   * Throws RESOURCE_EXHAUSTED when `principal` is over its call rate; with a shared counter the
   * answer is a promise (rejected with UNAVAILABLE when the counter is down). Counted here, it
   * costs no promise on every call.
   */
  admitCall(principal: Principal): void | Promise<void> {
    if (!this.calls) return;
    const key = principalKey(principal);
    if (this.sharedCalls) {
      const capacity = this.config.callBurst > 0 ? this.config.callBurst : this.config.callsPerSecond;
      return this.sharedCalls.take(key, 1, capacity, this.config.callsPerSecond).then((admitted) => {
        if (!admitted) throw this.overRate(principal);
      });
    }
    if (!this.calls.take(key, 1)) throw this.overRate(principal);
  }

  private overRate(principal: Principal): Error {
    return resourceExhausted(`call rate limit: "${principal.id}" is over ${this.config.callsPerSecond} calls per second (limits.callsPerSecond${this.sharedCalls ? ', counted over all replicas' : ''}); slow down and retry`);
  }

  /**
   * Charges `bytes` more of an upload that has received `totalSoFar` bytes (including these);
   * throws RESOURCE_EXHAUSTED when the upload or the principal's hourly quota is over its limit.
   */
  chargeUpload(principal: Principal, bytes: number, totalSoFar: number): void {
    const max = this.config.maxUploadBytes;
    if (max > 0 && totalSoFar > max) {
      throw resourceExhausted(`upload limit: this DoPut is over ${mib(max)} (limits.maxUploadBytes); nothing was stored`);
    }
    if (this.uploads && !this.uploads.take(principalKey(principal), bytes)) {
      throw resourceExhausted(`upload quota: "${principal.id}" is over ${mib(this.config.uploadBytesPerHour)} per hour (limits.uploadBytesPerHour); nothing of this DoPut was stored`);
    }
  }
}
