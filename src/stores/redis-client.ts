/**
 * The one Redis connection a process uses (sessions, login throttle, revocations): a single
 * server, a Redis Cluster, or a master found through Sentinel, chosen by the URL:
 *   redis[s]://[user:password@]host:port[/db]
 *   redis[s]+cluster://[user:password@]host:port,host:port,…          (any nodes; the rest are discovered)
 *   redis[s]+sentinel://[user:password@]host:port,host:port,…/MASTER  (the sentinels and the master's name)
 * Commands never queue while Redis is away: they fail at once and the call gets UNAVAILABLE; the
 * client keeps reconnecting (and, for a cluster, re-reading its slots), so service resumes by itself.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { FlightgateError, unavailable } from '../core/errors.js';

export type RedisConnection = Redis | Cluster;

export interface RedisTarget {
  readonly kind: 'single' | 'cluster' | 'sentinel';
  readonly nodes: readonly { host: string; port: number }[];
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** Sentinel: the master's name. */
  readonly master?: string;
}

const MULTI_NODE = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)(?:\/([^/]*))?$/;

/** Reads a cluster or sentinel URL (undefined for a plain redis:// URL, which ioredis reads itself); throws on a malformed one. */
export function parseRedisTarget(url: string): RedisTarget | undefined {
  if (/^rediss?:\/\//.test(url)) return undefined;
  const m = MULTI_NODE.exec(url);
  if (!m) throw new Error('expected redis://, rediss://, redis+cluster://host:port,… or redis+sentinel://host:port,…/MASTER');
  const [, scheme, kind, user, password, hosts, path] = m;
  const nodes = hosts!.split(',').map((hp) => {
    const at = hp.lastIndexOf(':');
    const host = at > 0 ? hp.slice(0, at).replace(/^\[|\]$/g, '') : hp;
    const port = at > 0 ? Number(hp.slice(at + 1)) : kind === 'sentinel' ? 26379 : 6379;
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad Redis node "${hp}"`);
    return { host, port };
  });
  if (kind === 'sentinel' && !path) throw new Error('a redis+sentinel:// URL names the master after the hosts: redis+sentinel://host:26379,host:26379/mymaster');
  return {
    kind: kind as 'cluster' | 'sentinel',
    nodes,
    tls: scheme === 'rediss',
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(kind === 'sentinel' ? { master: decodeURIComponent(path!) } : {}),
  };
}

export function openRedis(url: string, onConnectionError?: (err: Error) => void): RedisConnection {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  };
  const target = parseRedisTarget(url);
  const auth = { ...(target?.username ? { username: target.username } : {}), ...(target?.password ? { password: target.password } : {}) };
  let redis: RedisConnection;
  if (!target) redis = new Redis(url, common);
  else if (target.kind === 'cluster') {
    redis = new Cluster([...target.nodes], {
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      // A moved slot is followed; a node that is down is not retried for long: the call fails UNAVAILABLE.
      maxRedirections: 4,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 2000,
      redisOptions: { ...common, ...auth, ...(target.tls ? { tls: {} } : {}) },
    });
  } else {
    redis = new Redis({
      ...common,
      ...auth,
      sentinels: [...target.nodes],
      name: target.master!,
      ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  redis.on('error', (err: Error) => onConnectionError?.(err));
  return redis;
}

/** Waits until Redis answers (start-up), or throws UNAVAILABLE after `timeoutMs`. */
export async function redisReady(redis: RedisConnection, timeoutMs = 5000): Promise<void> {
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
