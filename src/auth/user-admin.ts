/**
 * Administration of users and roles (what the CLI's users/roles/sessions commands do): input
 * validation, password hashing, and ending sessions when an account changes.
 */
import { isDatasetAction, type DatasetAction } from '../core/actions.js';
import { invalidArgument } from '../core/errors.js';
import { checkName } from '../core/account-names.js';

export { checkName };
import type { ReadPolicy } from '../core/read-policy.js';
import { isValidPattern } from '../authz/pattern.js';
import type { RoleRecord, RoleStore } from '../stores/role-store.js';
import type { UserRecord, UserStore } from '../stores/user-store.js';
import type { SessionStore } from '../stores/session-store.js';
import { hashPassword, MAX_PASSWORD_BYTES } from './passwords.js';

export const MIN_PASSWORD_LENGTH = 8;

export function checkPassword(password: string): string {
  if ([...password].length < MIN_PASSWORD_LENGTH) throw invalidArgument(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw invalidArgument(`the password must be at most ${MAX_PASSWORD_BYTES} bytes`);
  return password;
}

export function checkActions(actions: readonly string[]): DatasetAction[] {
  if (actions.length === 0) throw invalidArgument('name at least one action: list, read, write or admin');
  return actions.map((a) => {
    if (!isDatasetAction(a)) throw invalidArgument(`unknown action "${a}": use list, read, write or admin`);
    return a;
  });
}

/** A user as shown to administrators: never the password hash. */
export interface UserView {
  name: string;
  disabled: boolean;
  roles: readonly string[];
  createdAt: string;
}

export const viewUser = (u: UserRecord): UserView => ({
  name: u.name,
  disabled: u.disabled,
  roles: u.roles,
  createdAt: new Date(u.createdAt).toISOString(),
});

export class UserAdmin {
  /** `sessions` is the shared session store, when there is one, so its sessions end at once. */
  constructor(
    private readonly stores: { readonly users: UserStore; readonly roles: RoleStore },
    private readonly sessions?: SessionStore,
  ) {}

  private async endSessions(name: string): Promise<void> {
    await this.sessions?.deleteUser(name);
  }

  async addUser(name: string, password: string, roles: readonly string[]): Promise<UserView> {
    checkName('user', name);
    for (const r of roles) checkName('role', r);
    await this.stores.users.add({ name, passwordHash: await hashPassword(checkPassword(password)), roles });
    const user = await this.stores.users.get(name);
    return viewUser(user!);
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.stores.users.list()).map(viewUser);
  }

  async setPassword(name: string, password: string): Promise<void> {
    await this.stores.users.setPassword(name, await hashPassword(checkPassword(password)));
    await this.endSessions(name);
  }

  async setDisabled(name: string, disabled: boolean): Promise<void> {
    await this.stores.users.setDisabled(name, disabled);
    if (disabled) await this.endSessions(name);
  }

  async deleteUser(name: string): Promise<void> {
    await this.stores.users.delete(name);
    await this.endSessions(name);
  }

  /** Ends the sessions of one user, or of all users. */
  async revokeSessions(name: string | undefined): Promise<void> {
    await this.stores.users.revokeSessions(name, Date.now());
    if (name !== undefined) await this.endSessions(name);
  }

  createRole(name: string): Promise<void> {
    return this.stores.roles.create(checkName('role', name));
  }

  deleteRole(name: string): Promise<void> {
    return this.stores.roles.delete(name);
  }

  /** Grants actions on patterns; a read grant's policy (checked by the caller against the datasets) replaces the one it had. */
  async grant(role: string, patterns: readonly string[], actions: readonly string[], policy?: ReadPolicy): Promise<void> {
    const checked = checkActions(actions);
    if (patterns.length === 0) throw invalidArgument('name at least one --dataset pattern');
    for (const p of patterns) {
      if (!isValidPattern(p)) throw invalidArgument(`invalid dataset pattern ${JSON.stringify(p)}: dataset name characters plus * and ?`);
    }
    for (const p of patterns) await this.stores.roles.grant(role, p, checked, policy);
  }

  async revoke(role: string, patterns: readonly string[], actions: readonly string[]): Promise<number> {
    const checked = actions.length ? checkActions(actions) : [];
    if (patterns.length === 0) throw invalidArgument('name at least one --dataset pattern');
    let n = 0;
    for (const p of patterns) n += await this.stores.roles.revoke(role, p, checked);
    return n;
  }

  assignRole(user: string, role: string): Promise<void> {
    return this.stores.roles.assign(user, role);
  }

  unassignRole(user: string, role: string): Promise<void> {
    return this.stores.roles.unassign(user, role);
  }

  listRoles(): Promise<RoleRecord[]> {
    return this.stores.roles.list();
  }
}
