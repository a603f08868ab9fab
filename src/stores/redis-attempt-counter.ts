/** Attempt counters in Redis, shared by every replica: a counter key and a lock key per subject. */
import type { Redis } from 'ioredis';
import type { AttemptCounter } from './attempt-counter.js';
import { guardRedis } from './redis-client.js';

const COUNT = (key: string): string => `fg:attempts:${key}`;
const LOCK = (key: string): string => `fg:lock:${key}`;

export class RedisAttemptCounter implements AttemptCounter {
  readonly kind = 'redis';

  constructor(private readonly redis: Redis) {}

  increment(keys: readonly string[], windowMs: number): Promise<number[]> {
    return guardRedis('login throttle', async () => {
      const tx = this.redis.multi();
      for (const k of keys) tx.incr(COUNT(k)).pexpire(COUNT(k), Math.max(1, Math.round(windowMs)));
      const results = await tx.exec();
      if (!results) throw new Error('Redis transaction was aborted');
      return keys.map((_, i) => {
        const [err, value] = results[i * 2]!;
        if (err) throw err;
        return Number(value);
      });
    });
  }

  clear(keys: readonly string[]): Promise<void> {
    return guardRedis('login throttle', async () => {
      if (keys.length) await this.redis.del(...keys.map(COUNT));
    });
  }

  lock(key: string, ms: number): Promise<void> {
    return guardRedis('login throttle', async () => {
      await this.redis.set(LOCK(key), '1', 'PX', Math.max(1, Math.round(ms)));
    });
  }

  lockedFor(keys: readonly string[]): Promise<number> {
    return guardRedis('login throttle', async () => {
      const tx = this.redis.multi();
      for (const k of keys) tx.pttl(LOCK(k));
      const results = (await tx.exec()) ?? [];
      let longest = 0;
      for (const [err, value] of results) {
        if (err) throw err;
        longest = Math.max(longest, Number(value));
      }
      return longest;
    });
  }

  async close(): Promise<void> {}
}
