/** Revoked token ids in Redis, shared by replicas; each entry expires with its token. */
import { guardRedis, type RedisConnection } from './redis-client.js';
import type { RevocationList } from './revocation-list.js';

const key = (jti: string): string => `fg:revoked-jti:${jti}`;

export class RedisRevocationList implements RevocationList {
  readonly kind = 'redis';

  constructor(private readonly redis: RedisConnection) {}

  revoke(jti: string, untilMs: number): Promise<void> {
    return guardRedis('revocation list', async () => {
      await this.redis.set(key(jti), '1', 'PXAT', Math.max(untilMs, Date.now() + 1000));
    });
  }

  isRevoked(jti: string): Promise<boolean> {
    return guardRedis('revocation list', async () => (await this.redis.exists(key(jti))) === 1);
  }

  async close(): Promise<void> {
    // The connection is shared; its owner closes it.
  }
}
