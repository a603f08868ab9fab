/**
 * The registry: the durable stores, each a narrow port of its own so a test or another backend
 * can supply one without the rest. One SQL implementation serves both the embedded SQLite file
 * and PostgreSQL.
 */
import type { ApiKeyRegistry } from './api-key-registry.js';
import type { ClientRegistry } from './client-registry.js';
import type { DeviceCodeStore } from './device-code-store.js';
import type { RefreshTokenStore } from './refresh-token-store.js';
import type { RoleStore } from './role-store.js';
import type { SecretStore } from './secret-store.js';
import type { SigningKeyStore } from './signing-key-store.js';
import type { UserStore } from './user-store.js';

export type { Grant, GrantSource, RoleRecord, RoleStore } from './role-store.js';
export type { SecretStore } from './secret-store.js';
export type { UserRecord, UserStore } from './user-store.js';

export interface Registry {
  /** Which backend this is, for messages: `sqlite` or `postgres`. */
  readonly kind: string;
  readonly users: UserStore;
  readonly roles: RoleStore;
  readonly secrets: SecretStore;
  readonly clients: ClientRegistry;
  readonly apiKeys: ApiKeyRegistry;
  readonly signingKeys: SigningKeyStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly deviceCodes: DeviceCodeStore;
  close(): Promise<void>;
}
