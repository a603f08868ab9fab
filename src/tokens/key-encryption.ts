/**
 * Encrypts signing keys at rest (AES-256-GCM). The key id is authenticated data, so a private
 * key copied onto another key's row does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class KeyEncryptionKey {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error(`the key-encryption key must be 32 bytes (got ${key.length})`);
    this.key = Buffer.from(key);
  }

  /** Reads the base64 text of a 32-byte key, e.g. from `openssl rand -base64 32`. */
  static fromBase64(text: string): KeyEncryptionKey {
    return new KeyEncryptionKey(Buffer.from(text.trim(), 'base64'));
  }

  encrypt(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Throws if the text was encrypted under another key, altered, or bound to another `aad`. */
  decrypt(text: string, aad: string): string {
    const [version, data] = text.split('.');
    if (version !== VERSION || !data) throw new Error('unknown encrypted key format');
    const raw = Buffer.from(data, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  }
}
