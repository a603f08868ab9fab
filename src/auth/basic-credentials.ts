/** Parses HTTP Basic credentials (RFC 7617) as Flight clients send them; unpadded base64 is accepted. */
import { unauthenticated } from '../core/errors.js';
import { MAX_PASSWORD_BYTES } from './passwords.js';

export interface BasicCredentials {
  readonly user: string;
  /**
   * Undefined when the password bytes are not valid UTF-8: such a password can match nothing
   * (decoding it leniently would turn every invalid byte into U+FFFD, so 0xff×8 would log in
   * wherever eight U+FFFD were stored).
   */
  readonly password: string | undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function strictText(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function parseBasicCredentials(encoded: string): BasicCredentials {
  const b64 = encoded.trim();
  if (b64.length === 0 || b64.length > 4 * MAX_PASSWORD_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw unauthenticated('malformed Basic credentials: expected base64(user:password)');
  }
  const bytes = Buffer.from(b64, 'base64');
  const colon = bytes.indexOf(0x3a);
  if (colon <= 0) throw unauthenticated('malformed Basic credentials: expected base64(user:password)');
  const user = strictText(bytes.subarray(0, colon));
  const password = strictText(bytes.subarray(colon + 1));
  // A user name that is not UTF-8 names nobody; it is kept (leniently decoded) only to throttle and audit the attempt.
  return { user: user ?? bytes.subarray(0, colon).toString('utf8'), password: user === undefined ? undefined : password };
}
