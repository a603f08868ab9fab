/** Token signing keys as stored: public JWK in the clear, private key encrypted. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: string;
  readonly encryptedPrivateKey: string;
  readonly createdAt: number;
  /** After this instant the key is no longer published; undefined while it signs or may sign. */
  readonly retireAt?: number;
}

export interface SigningKeyStore {
  list(): Promise<StoredSigningKey[]>;
  /** Adds `key` as the signing key; keys still without a retirement time get `retireOthersAt`. */
  rotate(key: StoredSigningKey, retireOthersAt: number): Promise<void>;
  /** Adds `key` only if there is no key yet (first start); returns whether it was added. */
  addFirst(key: StoredSigningKey): Promise<boolean>;
}
