/**
 * The stores replicas share: sessions, login-throttle counters and the access-token revocation
 * list, in Redis when a URL is given, else in this process's memory. The one place that chooses.
 */
import type { AttemptCounter } from './attempt-counter.js';
import { MemoryAttemptCounter } from './memory-attempt-counter.js';
import { MemoryRevocationList } from './memory-revocation-list.js';
import { MemorySessionStore } from './memory-session-store.js';
import { RedisAttemptCounter } from './redis-attempt-counter.js';
import { openRedis, redisReady } from './redis-client.js';
import { RedisRevocationList } from './redis-revocation-list.js';
import { RedisRateCounter } from './redis-rate-counter.js';
import type { RateCounter } from '../core/rate-counter.js';
import { RedisSessionStore } from './redis-session-store.js';
import type { RevocationList } from './revocation-list.js';
import type { SessionStore } from './session-store.js';

export interface SharedStores {
  readonly kind: 'memory' | 'redis';
  sessions: SessionStore;
  attempts: AttemptCounter;
  revocations: RevocationList;
  /** The per-principal call rate over all replicas; only with Redis. */
  callRate?: RateCounter;
  /** Waits until the backend answers; throws UNAVAILABLE if it does not within `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function openSharedStores(redisUrl: string | undefined, onRedisError: (err: Error) => void): SharedStores {
  if (!redisUrl) {
    const sessions = new MemorySessionStore();
    const attempts = new MemoryAttemptCounter();
    return {
      kind: 'memory',
      sessions,
      attempts,
      revocations: new MemoryRevocationList(),
      ready: async () => undefined,
      close: async () => {
        await sessions.close();
        await attempts.close();
      },
    };
  }
  const redis = openRedis(redisUrl, onRedisError);
  return {
    kind: 'redis',
    sessions: new RedisSessionStore(redis),
    attempts: new RedisAttemptCounter(redis),
    revocations: new RedisRevocationList(redis),
    callRate: new RedisRateCounter(redis),
    ready: (timeoutMs) => redisReady(redis, timeoutMs),
    close: async () => {
      redis.disconnect();
    },
  };
}
