/**
 * Attempt counters in Redis, shared by every replica. A subject is a hash (failures, time of the
 * last failure, lock end, known-until) and a short-lived in-flight counter, both under one hash
 * tag so each script touches a single cluster slot. Subjects arrive already hashed: no user
 * name or address is stored in Redis.
 */
import { IN_FLIGHT_TTL_MS, type AttemptCounter, type AttemptOutcome, type ReleaseResult, type Reservation, type SubjectLimits } from './attempt-counter.js';
import { guardRedis, type RedisConnection } from './redis-client.js';

const STATE = (subject: string): string => `fg:throttle:{${subject}}`;
const IN_FLIGHT = (subject: string): string => `fg:throttle:{${subject}}:inflight`;

// KEYS: state, in-flight. ARGV: now, maxFailures, maxInFlight, windowMs, inFlightTtlMs.
// Returns {0, failures, known} reserved | {1, retryMs} locked | {2} busy.
const RESERVE = `
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'f', 'w', 'l', 'k')
local f = tonumber(v[1]) or 0
if f > 0 and now - (tonumber(v[2]) or 0) > tonumber(ARGV[4]) then f = 0 end
local l = tonumber(v[3]) or 0
if l > now then return {1, l - now} end
local i = tonumber(redis.call('GET', KEYS[2]) or '0')
if f + i >= tonumber(ARGV[2]) or i >= tonumber(ARGV[3]) then return {2} end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local known = 0
if (tonumber(v[4]) or 0) > now then known = 1 end
return {0, f, known}`;

// KEYS: state, in-flight. ARGV: now, outcome (failure|cleared|released), maxFailures, lockMs, windowMs, knownUntil.
// Returns {failures, locked}.
const RELEASE = `
local now = tonumber(ARGV[1])
local i = tonumber(redis.call('GET', KEYS[2]) or '0')
if i > 1 then redis.call('DECR', KEYS[2]) else redis.call('DEL', KEYS[2]) end
local v = redis.call('HMGET', KEYS[1], 'f', 'w', 'l', 'k')
local f = tonumber(v[1]) or 0
local w = tonumber(v[2]) or 0
local l = tonumber(v[3]) or 0
local k = tonumber(v[4]) or 0
if f > 0 and now - w > tonumber(ARGV[5]) then f = 0 end
local locked = 0
if ARGV[2] == 'failure' then
  f = f + 1
  w = now
  if f >= tonumber(ARGV[3]) then
    l = now + tonumber(ARGV[4])
    f = 0
    locked = 1
  end
elseif ARGV[2] == 'cleared' then
  f = 0
  k = math.max(k, tonumber(ARGV[6]))
else
  return {f, 0}
end
redis.call('HSET', KEYS[1], 'f', f, 'w', w, 'l', l, 'k', k)
local keep = math.max(w + tonumber(ARGV[5]), l, k)
if keep > now then redis.call('PEXPIREAT', KEYS[1], keep) else redis.call('DEL', KEYS[1]) end
return {f, locked}`;

export class RedisAttemptCounter implements AttemptCounter {
  readonly kind = 'redis';

  constructor(private readonly redis: RedisConnection) {}

  reserve(subject: string, limits: SubjectLimits, now: number): Promise<Reservation> {
    return guardRedis('login throttle', async () => {
      const r = (await this.redis.eval(RESERVE, 2, STATE(subject), IN_FLIGHT(subject), now, limits.maxFailures, limits.maxInFlight, limits.windowMs, IN_FLIGHT_TTL_MS)) as number[];
      if (r[0] === 0) return { kind: 'reserved', failures: Number(r[1]), known: r[2] === 1 };
      if (r[0] === 1) return { kind: 'locked', retryMs: Number(r[1]) };
      return { kind: 'busy' };
    });
  }

  release(subject: string, outcome: AttemptOutcome, limits: SubjectLimits, now: number): Promise<ReleaseResult> {
    return guardRedis('login throttle', async () => {
      const knownUntil = outcome.kind === 'cleared' ? outcome.knownUntil : 0;
      const r = (await this.redis.eval(RELEASE, 2, STATE(subject), IN_FLIGHT(subject), now, outcome.kind, limits.maxFailures, limits.lockMs, limits.windowMs, knownUntil)) as number[];
      return { failures: Number(r[0]), locked: r[1] === 1 };
    });
  }

  async close(): Promise<void> {}
}
