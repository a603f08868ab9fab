/**
 * Token buckets in Redis, one hash per key, on Redis's own clock (replicas' clocks may differ):
 * one script call per take, so that replicas racing on a bucket cannot both spend its last token.
 * A bucket expires once it would be full again, so idle principals cost nothing.
 */
import type { RateCounter } from '../core/rate-counter.js';
import { guardRedis, type RedisConnection } from './redis-client.js';

const BUCKET = (key: string): string => `fg:rate:{${key}}`;

// KEYS: bucket. ARGV: amount, capacity, perSecond. Returns 1 when taken.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 'n', 'u')
local cap = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local n = tonumber(v[1]) or cap
local u = tonumber(v[2]) or now
n = math.min(cap, n + (now - u) / 1000 * rate)
local amount = tonumber(ARGV[1])
local ok = 0
if n >= amount then n = n - amount ok = 1 end
redis.call('HSET', KEYS[1], 'n', tostring(n), 'u', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - n) / rate * 1000) + 1000)
return ok`;

export class RedisRateCounter implements RateCounter {
  constructor(private readonly redis: RedisConnection) {}

  take(key: string, amount: number, capacity: number, perSecond: number): Promise<boolean> {
    return guardRedis('call-rate counter', async () => (await this.redis.eval(TAKE, 1, BUCKET(key), amount, capacity, perSecond)) === 1);
  }
}
