/** The demo accounts `serve --demo` creates. Their passwords are public: demo mode only. */
import type { RoleStore } from '../stores/role-store.js';
import type { UserStore } from '../stores/user-store.js';
import type { DatasetAction } from '../core/actions.js';
import { FlightgateError } from '../core/errors.js';
import { Status } from '../core/status.js';
import { hashPassword } from './passwords.js';

interface DemoRole {
  name: string;
  grants: { pattern: string; actions: DatasetAction[] }[];
}

const ROLES: DemoRole[] = [
  { name: 'demo-admin', grants: [{ pattern: '*', actions: ['read', 'write'] }] },
  { name: 'demo-db1-reader', grants: [{ pattern: 'db1', actions: ['read'] }] },
  { name: 'demo-db2-reader', grants: [{ pattern: 'db2', actions: ['read'] }] },
];

export const DEMO_USERS = [
  { name: 'admin', password: 'admin123', role: 'demo-admin' },
  { name: 'user1', password: 'pass1', role: 'demo-db1-reader' },
  { name: 'user2', password: 'pass2', role: 'demo-db2-reader' },
] as const;

const ignoreExisting = (err: unknown): void => {
  if (!(err instanceof FlightgateError && err.status === Status.ALREADY_EXISTS)) throw err;
};

/** Creates what is missing; leaves existing users (and changed passwords) alone. */
export async function seedDemoUsers(registry: { readonly users: UserStore; readonly roles: RoleStore }): Promise<string[]> {
  for (const role of ROLES) {
    await registry.roles.create(role.name).catch(ignoreExisting);
    // Two demo servers starting on one registry race here; the loser's inserts already exist.
    for (const g of role.grants) await registry.roles.grant(role.name, g.pattern, g.actions).catch(ignoreExisting);
  }
  const created: string[] = [];
  for (const u of DEMO_USERS) {
    if (await registry.users.get(u.name)) continue;
    await registry.users.add({ name: u.name, passwordHash: await hashPassword(u.password), roles: [u.role] }).then(
      () => created.push(u.name),
      ignoreExisting,
    );
  }
  return created;
}
