/** Roles, their grants on dataset patterns, and which users hold them. */
import type { DatasetAction } from '../core/actions.js';

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

/** What authorization reads: every grant. */
export interface GrantSource {
  grants(): Promise<Grant[]>;
}

export interface RoleStore extends GrantSource {
  create(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  list(): Promise<RoleRecord[]>;
  grant(role: string, pattern: string, actions: readonly DatasetAction[]): Promise<void>;
  /** Removes the named actions on `pattern`, or all of them when `actions` is empty. Returns how many. */
  revoke(role: string, pattern: string, actions: readonly DatasetAction[]): Promise<number>;
  assign(user: string, role: string): Promise<void>;
  unassign(user: string, role: string): Promise<void>;
}
