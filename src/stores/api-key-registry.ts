/** API keys: long-lived bearer secrets for scripts, scoped to roles. */
export interface ApiKeyRecord {
  readonly name: string;
  /** SHA-256 (hex) of the key. */
  readonly keyHash: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  /** Who made it for themselves (a principal key); absent for keys an administrator made. */
  readonly owner?: string;
  readonly label?: string;
}

export interface ApiKeyRegistry {
  /** Throws ALREADY_EXISTS for a taken name, NOT_FOUND for an unknown role. */
  add(key: { name: string; keyHash: string; roles: readonly string[]; expiresAt?: number; owner?: string; label?: string }): Promise<void>;
  byHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** The keys `owner` made for themselves. */
  listOwned(owner: string): Promise<ApiKeyRecord[]>;
  revoke(name: string, at: number): Promise<void>;
}
