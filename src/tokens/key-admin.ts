/** Listing and rotating our signing keys (the CLI's `keys` command). */
import type { SigningKeyStore } from '../stores/signing-key-store.js';
import type { KeyEncryptionKey } from './key-encryption.js';
import { generateSigningKey, type SigningAlgorithm } from './signing-keys.js';

export interface SigningKeyView {
  readonly kid: string;
  readonly alg: string;
  readonly created_at: string;
  readonly state: 'signing' | 'published' | 'retired';
  /** When it leaves the JWKS. */
  readonly retire_at: string | null;
}

export class KeyAdmin {
  constructor(
    private readonly store: SigningKeyStore,
    private readonly kek: KeyEncryptionKey,
  ) {}

  async list(): Promise<SigningKeyView[]> {
    const now = Date.now();
    const keys = await this.store.list();
    const signing = keys.filter((k) => k.retireAt === undefined).at(-1)?.kid;
    return keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      created_at: new Date(k.createdAt).toISOString(),
      state: k.kid === signing ? 'signing' : k.retireAt === undefined || k.retireAt > now ? 'published' : 'retired',
      retire_at: k.retireAt === undefined ? null : new Date(k.retireAt).toISOString(),
    }));
  }

  /**
   * Adds a new signing key. The old ones stay published until every token they signed has
   * expired: the token lifetime, plus the time servers take to notice the new key, plus leeway.
   */
  async rotate(alg: SigningAlgorithm, keepOldMs: number): Promise<SigningKeyView> {
    const key = generateSigningKey(alg, this.kek);
    await this.store.rotate(key, key.createdAt + keepOldMs);
    return { kid: key.kid, alg: key.alg, created_at: new Date(key.createdAt).toISOString(), state: 'signing', retire_at: null };
  }
}
