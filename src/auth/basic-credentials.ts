/** Parses HTTP Basic credentials (RFC 7617) as Flight clients send them; unpadded base64 is accepted. */
import { unauthenticated } from '../core/errors.js';
import { MAX_PASSWORD_BYTES } from './passwords.js';

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

export function parseBasicCredentials(encoded: string): BasicCredentials {
  const b64 = encoded.trim();
  if (b64.length === 0 || b64.length > 4 * MAX_PASSWORD_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw unauthenticated('malformed Basic credentials: expected base64(user:password)');
  }
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) throw unauthenticated('malformed Basic credentials: expected base64(user:password)');
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
