/** Attempt counters in this process's memory: the embedded default. */
import type { AttemptCounter } from './attempt-counter.js';

const MAX_KEYS = 100_000;

export class MemoryAttemptCounter implements AttemptCounter {
  readonly kind = 'memory';
  private readonly counts = new Map<string, { n: number; until: number }>();
  private readonly locks = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async increment(keys: readonly string[], windowMs: number): Promise<number[]> {
    const t = this.now();
    if (this.counts.size >= MAX_KEYS) this.prune(t);
    return keys.map((key) => {
      const c = this.counts.get(key);
      const n = c && c.until > t ? c.n + 1 : 1;
      this.counts.set(key, { n, until: t + windowMs });
      return n;
    });
  }

  async clear(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.counts.delete(k);
  }

  async lock(key: string, ms: number): Promise<void> {
    if (this.locks.size >= MAX_KEYS) this.prune(this.now());
    this.locks.set(key, this.now() + ms);
  }

  async lockedFor(keys: readonly string[]): Promise<number> {
    const t = this.now();
    let longest = 0;
    for (const k of keys) longest = Math.max(longest, (this.locks.get(k) ?? 0) - t);
    return longest;
  }

  /** Drops what has expired; if that is not enough, the oldest entries, rather than grow without bound. */
  private prune(t: number): void {
    for (const [k, c] of this.counts) if (c.until <= t) this.counts.delete(k);
    for (const [k, until] of this.locks) if (until <= t) this.locks.delete(k);
    for (const map of [this.counts, this.locks] as Map<string, unknown>[]) {
      for (const k of map.keys()) {
        if (map.size < MAX_KEYS) break;
        map.delete(k);
      }
    }
  }

  async close(): Promise<void> {
    this.counts.clear();
    this.locks.clear();
  }
}
