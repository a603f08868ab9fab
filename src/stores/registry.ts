/**
 * The registry port: users, roles, their grants on dataset patterns, and server secrets.
 * One SQL implementation serves both the embedded SQLite file and PostgreSQL.
 */
import type { DatasetAction } from '../core/actions.js';
import type { ApiKeyRegistry } from './api-key-registry.js';
import type { ClientRegistry } from './client-registry.js';
import type { RefreshTokenStore } from './refresh-token-store.js';
import type { SigningKeyStore } from './signing-key-store.js';

export interface UserRecord {
  readonly name: string;
  /** argon2id PHC string. */
  readonly passwordHash: string;
  readonly disabled: boolean;
  readonly roles: readonly string[];
  /** Sessions created before this instant (ms) are no longer valid: set on disable, passwd, revoke. */
  readonly sessionsNotBefore: number;
  readonly createdAt: number;
}

export interface Grant {
  readonly role: string;
  /** A glob over dataset names (`*`, `?`). */
  readonly pattern: string;
  readonly action: DatasetAction;
}

export interface RoleRecord {
  readonly name: string;
  readonly grants: readonly Grant[];
  readonly members: readonly string[];
}

export interface Registry {
  /** Which backend this is, for messages: `sqlite` or `postgres`. */
  readonly kind: string;
  readonly clients: ClientRegistry;
  readonly apiKeys: ApiKeyRegistry;
  readonly signingKeys: SigningKeyStore;
  readonly refreshTokens: RefreshTokenStore;
  getUser(name: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  countUsers(): Promise<number>;
  /** Throws ALREADY_EXISTS if the user exists, NOT_FOUND if a role does not. */
  addUser(user: { name: string; passwordHash: string; roles?: readonly string[] }): Promise<void>;
  /** Also ends the user's sessions. */
  setPassword(name: string, passwordHash: string): Promise<void>;
  /** Disabling also ends the user's sessions. */
  setDisabled(name: string, disabled: boolean): Promise<void>;
  /** Ends the sessions of one user, or of everyone when `name` is undefined. */
  revokeSessions(name: string | undefined, at: number): Promise<void>;
  deleteUser(name: string): Promise<void>;

  createRole(name: string): Promise<void>;
  deleteRole(name: string): Promise<void>;
  listRoles(): Promise<RoleRecord[]>;
  grant(role: string, pattern: string, actions: readonly DatasetAction[]): Promise<void>;
  /** Removes the named actions on `pattern`, or all of them when `actions` is empty. Returns how many. */
  revoke(role: string, pattern: string, actions: readonly DatasetAction[]): Promise<number>;
  assignRole(user: string, role: string): Promise<void>;
  unassignRole(user: string, role: string): Promise<void>;
  grants(): Promise<Grant[]>;

  /** Returns the named secret, creating it with `create()` if absent (first writer wins). */
  secret(name: string, create: () => string): Promise<string>;
  /** Replaces the named secret's value, but only if it is still `expected` (another replica may have done it). */
  replaceSecret(name: string, expected: string, value: string): Promise<void>;
  close(): Promise<void>;
}
