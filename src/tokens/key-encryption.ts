/**
 * Encrypts signing keys at rest (AES-256-GCM). The key id is authenticated data, so a private
 * key copied onto another key's row does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/load.js';

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

/** Where the key-encryption key comes from: the configuration, or (embedded SQLite only) a file in the data directory. */
export interface KeyEncryptionKeySource {
  /** tokens.keyEncryptionKey: base64 of 32 bytes. */
  readonly configured?: string;
  /** With PostgreSQL the key must be configured: every replica must decrypt the same signing keys. */
  readonly sharedRegistry: boolean;
  readonly dataDir: string;
}

/** The configured key, checked; undefined when it may come from the data directory. Reads and writes nothing. */
export function configuredKeyEncryptionKey(source: KeyEncryptionKeySource): KeyEncryptionKey | undefined {
  if (source.configured) {
    const kek = Buffer.from(source.configured, 'base64');
    if (kek.length !== 32) throw new ConfigError('tokens.keyEncryptionKey (FLIGHTGATE_KEY_ENCRYPTION_KEY): expected base64 of 32 bytes, e.g. from: openssl rand -base64 32');
    return new KeyEncryptionKey(kek);
  }
  if (source.sharedRegistry) {
    throw new ConfigError(
      'tokens.keyEncryptionKey (FLIGHTGATE_KEY_ENCRYPTION_KEY) is required with a PostgreSQL registry: every replica must decrypt the same signing keys. Generate one with: openssl rand -base64 32',
    );
  }
  return undefined;
}

/**
 * The key that encrypts signing keys (and the ticket key) at rest: configured, or a file next to
 * the embedded registry, created on first start.
 */
export function openKeyEncryptionKey(source: KeyEncryptionKeySource): KeyEncryptionKey {
  const configured = configuredKeyEncryptionKey(source);
  if (configured) return configured;
  const file = join(resolve(source.dataDir), 'key-encryption.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  try {
    return KeyEncryptionKey.fromBase64(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} does not hold a key-encryption key (base64 of 32 bytes): ${err instanceof Error ? err.message : String(err)}`);
  }
}
