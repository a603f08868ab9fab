/** Roles, their grants on dataset patterns, and which users hold them. */
import type { ReadPolicy } from '../core/read-policy.js';
import type { DatasetAction } from '../core/actions.js';

export interface Grant {
  readonly role: string;
  /** A glob over dataset names (`*`, `?`). */
  readonly pattern: string;
  readonly action: DatasetAction;
  /** On a read grant: the rows and columns it shows (absent: all of them). */
  readonly policy?: ReadPolicy;
  /** Where it is declared: the registry (default) or the config file. */
  readonly source?: 'registry' | 'config';
}

export interface RoleRecord {
  readonly name: string;
  readonly grants: readonly Grant[];
  readonly members: readonly string[];
}

/** What authorization reads: every grant. */
export interface GrantSource {
  grants(): Promise<Grant[]>;
}

export interface RoleStore extends GrantSource {
  create(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  list(): Promise<RoleRecord[]>;
  /**
   * Grants the actions on `pattern`. When they include read, the read grant's policy becomes
   * `policy` (none: the whole dataset), replacing any it had.
   */
  grant(role: string, pattern: string, actions: readonly DatasetAction[], policy?: ReadPolicy): Promise<void>;
  /** Removes the named actions on `pattern` (a read's policy with it), or all of them when `actions` is empty. Returns how many. */
  revoke(role: string, pattern: string, actions: readonly DatasetAction[]): Promise<number>;
  assign(user: string, role: string): Promise<void>;
  unassign(user: string, role: string): Promise<void>;
}
