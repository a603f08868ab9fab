/** Users: who may log in with a password, their roles, and since when their sessions hold. */
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

export interface UserStore {
  get(name: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  count(): Promise<number>;
  /** Throws ALREADY_EXISTS if the user exists, NOT_FOUND if a role does not. */
  add(user: { name: string; passwordHash: string; roles?: readonly string[] }): Promise<void>;
  /** Also ends the user's sessions. */
  setPassword(name: string, passwordHash: string): Promise<void>;
  /** Disabling also ends the user's sessions. */
  setDisabled(name: string, disabled: boolean): Promise<void>;
  /** Ends the sessions of one user, or of everyone when `name` is undefined. */
  revokeSessions(name: string | undefined, at: number): Promise<void>;
  delete(name: string): Promise<void>;
}
