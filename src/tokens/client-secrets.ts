/**
 * Generated OAuth client secrets: 256 CSPRNG bits with a recognisable prefix. Being random and
 * long, they are stored as SHA-256 (a slow hash adds nothing against guessing 2^256) and
 * compared in constant time.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export const CLIENT_SECRET_PREFIX = 'fgc_';

export const newClientSecret = (): string => CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');

export const newClientId = (name: string): string => `${name}-${randomBytes(4).toString('hex')}`;

export const hashSecret = (secret: string): string => hash('sha256', secret, 'hex');

export function secretMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
