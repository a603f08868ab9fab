/**
 * Sessions in Redis, shared by every replica: one hash per session that Redis expires at the
 * session's end (absolute, idle or grace, whichever first), plus a set per user for revocation.
 */
import { Cluster } from 'ioredis';
import { guardRedis, type RedisConnection } from './redis-client.js';
import { sessionEnd, type SessionRecord, type SessionStore } from './session-store.js';

const SESSION = (id: string): string => `fg:session:${id}`;
const USER = (user: string): string => `fg:user-sessions:${user}`;

// Atomic, so two replicas rotating the same token at once agree on a single winner.
const MARK_ROTATED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[1], 'rotatedAt', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'graceUntil', ARGV[2], 'successor', ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or tonumber(ARGV[2]) - tonumber(ARGV[1]) < ttl then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1`;

// Pushes the idle deadline out, but never past the absolute end or a rotation's grace.
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local v = redis.call('HMGET', KEYS[1], 'expiresAt', 'idleMs', 'graceUntil')
local finish = math.min(tonumber(v[1]), tonumber(ARGV[1]) + tonumber(v[2]))
if v[3] then finish = math.min(finish, tonumber(v[3])) end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], finish)
return 1`;

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';

  /** `ownsConnection`: close the client with the store (the CLI); a server closes its shared client itself. */
  constructor(
    private readonly redis: RedisConnection,
    private readonly ownsConnection = false,
  ) {}

  private guard<T>(work: () => Promise<T>): Promise<T> {
    return guardRedis('session store', work);
  }

  put(id: string, r: SessionRecord): Promise<void> {
    return this.guard(async () => {
      const fields: Record<string, string> = {
        user: r.user,
        roles: JSON.stringify(r.roles),
        createdAt: String(r.createdAt),
        expiresAt: String(r.expiresAt),
        idleMs: String(r.idleMs),
        lastSeenAt: String(r.lastSeenAt),
        ...(r.rotatedAt !== undefined ? { rotatedAt: String(r.rotatedAt) } : {}),
        ...(r.graceUntil !== undefined ? { graceUntil: String(r.graceUntil) } : {}),
        ...(r.successor ? { successor: r.successor } : {}),
        ...(r.predecessor ? { predecessor: r.predecessor } : {}),
      };
      // The user's index lives as long as the longest of its sessions: NX gives a new index its
      // expiry, GT only ever extends it, so a shorter session put later cannot take the index
      // (and the longer sessions' ids) with it when it ends. The index and the session are in
      // different hash slots of a cluster, so they are two transactions: the index first, so that
      // no session exists that revoking its user's sessions would miss.
      await this.redis
        .multi()
        .sadd(USER(r.user), id)
        .pexpireat(USER(r.user), r.expiresAt, 'NX')
        .pexpireat(USER(r.user), r.expiresAt, 'GT')
        .exec()
        .then(throwOnFailedStep);
      await this.redis.multi().del(SESSION(id)).hset(SESSION(id), fields).pexpireat(SESSION(id), sessionEnd(r)).exec().then(throwOnFailedStep);
    });
  }

  get(id: string, now: number): Promise<SessionRecord | undefined> {
    return this.guard(async () => {
      const h = await this.redis.hgetall(SESSION(id));
      if (!h.user || !h.expiresAt) return undefined;
      const r: SessionRecord = {
        user: h.user,
        roles: parseRoles(h.roles),
        createdAt: Number(h.createdAt),
        expiresAt: Number(h.expiresAt),
        idleMs: Number(h.idleMs),
        lastSeenAt: Number(h.lastSeenAt),
        ...(h.rotatedAt ? { rotatedAt: Number(h.rotatedAt) } : {}),
        ...(h.graceUntil ? { graceUntil: Number(h.graceUntil) } : {}),
        ...(h.successor ? { successor: h.successor } : {}),
        ...(h.predecessor ? { predecessor: h.predecessor } : {}),
      };
      return sessionEnd(r) <= now ? undefined : r;
    });
  }

  touch(id: string, now: number): Promise<void> {
    return this.guard(async () => {
      await this.redis.eval(TOUCH, 1, SESSION(id), String(now));
    });
  }

  markRotated(id: string, now: number, graceUntil: number, successor: string): Promise<boolean> {
    return this.guard(async () => (await this.redis.eval(MARK_ROTATED, 1, SESSION(id), String(now), String(graceUntil), successor)) === 1);
  }

  delete(id: string): Promise<boolean> {
    return this.guard(async () => (await this.redis.del(SESSION(id))) > 0);
  }

  deleteUser(user: string): Promise<number> {
    return this.guard(async () => {
      const ids = await this.redis.smembers(USER(user));
      if (ids.length === 0) return 0;
      // One key at a time (a cluster keeps them in different slots); only the ids read are removed
      // from the index, so a session put meanwhile stays findable.
      const deleted = await Promise.all(ids.map((id) => this.redis.del(SESSION(id))));
      await this.redis.srem(USER(user), ...ids);
      return deleted.reduce((n, d) => n + d, 0);
    });
  }

  count(): Promise<number> {
    return this.guard(async () => {
      // A cluster's keys are spread over its masters: each is scanned.
      const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
      let n = 0;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', 'fg:session:*', 'COUNT', 1000);
          n += keys.length;
          cursor = next;
        } while (cursor !== '0');
      }
      return n;
    });
  }

  async close(): Promise<void> {
    if (this.ownsConnection) this.redis.disconnect();
  }
}

function parseRoles(raw: string | undefined): string[] {
  try {
    const v: unknown = JSON.parse(raw ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function throwOnFailedStep(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error('Redis transaction was aborted');
  for (const [err] of results) if (err) throw err;
}
