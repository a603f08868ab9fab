/**
 * The one Redis connection a process uses (sessions, login throttle). Commands never queue while
 * Redis is away: they fail at once and the call gets UNAVAILABLE; the client keeps reconnecting,
 * so service resumes by itself.
 */
import { Redis } from 'ioredis';
import { FlightgateError, unavailable } from '../core/errors.js';

export function openRedis(url: string, onConnectionError?: (err: Error) => void): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  });
  redis.on('error', (err: Error) => onConnectionError?.(err));
  return redis;
}

/** Waits until Redis answers (start-up), or throws UNAVAILABLE after `timeoutMs`. */
export async function redisReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await redis.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw unavailable('Redis is unavailable', err);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs Redis work, turning its failures into UNAVAILABLE so callers fail closed. */
export async function guardRedis<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof FlightgateError) throw err;
    throw unavailable(`the ${what} (Redis) is unavailable`, err);
  }
}
