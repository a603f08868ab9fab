/** Opaque bearer secrets: a readable prefix and 256 CSPRNG bits; stored and looked up only by SHA-256. */
import { hash, randomBytes } from 'node:crypto';

export const SESSION_TOKEN_PREFIX = 'fgs_';

export function newOpaqueToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** The id a token is stored under: its SHA-256, hex. Knowing it does not let anyone use the token. */
export function tokenId(token: string): string {
  return hash('sha256', token, 'hex');
}
