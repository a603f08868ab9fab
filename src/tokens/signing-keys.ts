/**
 * Our token signing keys: generated on first start and kept in the registry (private halves
 * encrypted), so every replica signs and verifies with the same set. The newest key without a
 * retirement time signs; older ones stay published in the JWKS until their tokens have expired.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { SigningKeyStore, StoredSigningKey } from '../stores/signing-key-store.js';
import type { JwsAlgorithm } from './jws.js';
import type { KeyResolver } from './jwt-verifier.js';
import type { KeyEncryptionKey } from './key-encryption.js';

export type SigningAlgorithm = Extract<JwsAlgorithm, 'ES256' | 'Ed25519'>;

/** The algorithm a configured name stands for: `EdDSA` is the deprecated name of Ed25519. */
export const signingAlgorithm = (configured: 'ES256' | 'Ed25519' | 'EdDSA'): SigningAlgorithm => (configured === 'EdDSA' ? 'Ed25519' : configured);

/** Keys stored as `EdDSA` by earlier versions are Ed25519 keys: they sign and are published as `Ed25519` (RFC 9864). */
const current = (alg: string): string => (alg === 'EdDSA' ? 'Ed25519' : alg);

export interface Signer {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly key: KeyObject;
}

export interface PublishedKey {
  readonly kid: string;
  readonly alg: string;
  readonly createdAt: number;
  readonly retireAt?: number;
  readonly jwk: JsonWebKey;
}

export function generateSigningKey(alg: SigningAlgorithm, kek: KeyEncryptionKey, now = Date.now()): StoredSigningKey {
  const { publicKey, privateKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const kid = `fg-${new Date(now).toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`;
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return {
    kid,
    alg,
    publicJwk: JSON.stringify(publicKey.export({ format: 'jwk' })),
    encryptedPrivateKey: kek.encrypt(pem, kid),
    createdAt: now,
  };
}

export interface KeyRingOptions {
  readonly algorithm: SigningAlgorithm;
  /** How often the ring re-reads the registry (to see `flightgate keys rotate` from another process). */
  readonly reloadMs: number;
  readonly onReloadError?: (err: unknown) => void;
}

export class SigningKeyRing implements KeyResolver {
  private signer_: Signer | undefined;
  private published: PublishedKey[] = [];
  private readonly publicKeys = new Map<string, { alg: string; key: KeyObject }>();
  private lastLoad = 0;
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly kek: KeyEncryptionKey,
    private readonly options: KeyRingOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads the keys, creating the first one if the registry has none; then re-reads periodically. */
  async start(): Promise<void> {
    await this.store.addFirst(generateSigningKey(this.options.algorithm, this.kek, this.now()));
    await this.load();
    this.timer = setInterval(() => void this.reload().catch((err: unknown) => this.options.onReloadError?.(err)), this.options.reloadMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const now = this.now();
    const keys = (await this.store.list()).filter((k) => k.retireAt === undefined || k.retireAt > now);
    const active = keys.filter((k) => k.retireAt === undefined).at(-1) ?? keys.at(-1);
    if (!active) throw new Error('no signing key in the registry');
    if (this.signer_?.kid !== active.kid) {
      let pem: string;
      try {
        pem = this.kek.decrypt(active.encryptedPrivateKey, active.kid);
      } catch {
        throw new Error(`cannot decrypt signing key ${active.kid}: the key-encryption key is not the one it was stored with`);
      }
      this.signer_ = { kid: active.kid, alg: current(active.alg) as SigningAlgorithm, key: createPrivateKey(pem) };
    }
    this.publicKeys.clear();
    this.published = keys.map((k) => {
      const jwk = JSON.parse(k.publicJwk) as JsonWebKey;
      this.publicKeys.set(k.kid, { alg: current(k.alg), key: createPublicKey({ key: jwk, format: 'jwk' }) });
      return { kid: k.kid, alg: current(k.alg), createdAt: k.createdAt, retireAt: k.retireAt, jwk: { ...jwk, kid: k.kid, alg: current(k.alg), use: 'sig' } };
    });
    this.lastLoad = now;
  }

  get signer(): Signer {
    if (!this.signer_) throw new Error('signing keys not loaded');
    return this.signer_;
  }

  /** The JWKS document (RFC 7517): every key whose tokens may still be in use. */
  jwks(): { keys: JsonWebKey[] } {
    const now = this.now();
    return { keys: this.published.filter((k) => k.retireAt === undefined || k.retireAt > now).map((k) => k.jwk) };
  }

  async key(kid: string | undefined, alg: JwsAlgorithm): Promise<KeyObject | undefined> {
    if (kid === undefined) return undefined;
    let entry = this.publicKeys.get(kid);
    // A key made by `keys rotate` elsewhere: look again, at most once a second.
    if (!entry && this.now() - this.lastLoad > 1000) {
      await this.reload();
      entry = this.publicKeys.get(kid);
    }
    // Tokens signed as `EdDSA` before the rename still verify with their Ed25519 key.
    return entry && entry.alg === current(alg) ? entry.key : undefined;
  }
}
