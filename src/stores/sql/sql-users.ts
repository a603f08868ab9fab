/** Users and their role memberships in the SQL registry. */
import type { Kysely } from 'kysely';
import { alreadyExists, notFound } from '../../core/errors.js';
import type { UserRecord, UserStore } from '../user-store.js';
import { requireRole, requireUser, type Queryable } from './existence.js';
import { num, type SqlGuard } from './guard.js';
import type { RegistryDatabase } from './schema.js';

interface UserRow {
  name: string;
  password_hash: string;
  disabled: number;
  sessions_not_before: number | string;
  created_at: number | string;
}

const toUser = (row: UserRow, roles: string[]): UserRecord => ({
  name: row.name,
  passwordHash: row.password_hash,
  disabled: Number(row.disabled) !== 0,
  roles,
  sessionsNotBefore: num(row.sessions_not_before),
  createdAt: num(row.created_at),
});

export class SqlUsers implements UserStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  private async rolesOf(db: Queryable, names: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(names.map((n) => [n, []]));
    if (names.length === 0) return out;
    const rows = await db.selectFrom('fg_user_roles').select(['user_name', 'role_name']).where('user_name', 'in', names).orderBy('role_name').execute();
    for (const r of rows) out.get(r.user_name)?.push(r.role_name);
    return out;
  }

  get(name: string): Promise<UserRecord | undefined> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('fg_users').selectAll().where('name', '=', name).executeTakeFirst();
      if (!row) return undefined;
      return toUser(row, (await this.rolesOf(this.db, [name])).get(name) ?? []);
    });
  }

  list(): Promise<UserRecord[]> {
    return this.guard(async () => {
      const rows = await this.db.selectFrom('fg_users').selectAll().orderBy('name').execute();
      const roles = await this.rolesOf(this.db, rows.map((r) => r.name));
      return rows.map((r) => toUser(r, roles.get(r.name) ?? []));
    });
  }

  count(): Promise<number> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('fg_users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
      return num(row.n);
    });
  }

  add(user: { name: string; passwordHash: string; roles?: readonly string[] }): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        if (await tx.selectFrom('fg_users').select('name').where('name', '=', user.name).executeTakeFirst()) {
          throw alreadyExists(`user "${user.name}" already exists`);
        }
        for (const role of user.roles ?? []) await requireRole(tx, role);
        await tx
          .insertInto('fg_users')
          .values({ name: user.name, password_hash: user.passwordHash, disabled: 0, sessions_not_before: 0, created_at: Date.now() })
          .execute();
        for (const role of new Set(user.roles ?? [])) {
          await tx.insertInto('fg_user_roles').values({ user_name: user.name, role_name: role }).execute();
        }
      }),
    );
  }

  private async update(name: string, values: { password_hash?: string; disabled?: number; sessions_not_before?: number }): Promise<void> {
    const result = await this.db.updateTable('fg_users').set(values).where('name', '=', name).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`no user "${name}"`);
  }

  setPassword(name: string, passwordHash: string): Promise<void> {
    return this.guard(() => this.update(name, { password_hash: passwordHash, sessions_not_before: Date.now() }));
  }

  setDisabled(name: string, disabled: boolean): Promise<void> {
    return this.guard(() => this.update(name, disabled ? { disabled: 1, sessions_not_before: Date.now() } : { disabled: 0 }));
  }

  revokeSessions(name: string | undefined, at: number): Promise<void> {
    return this.guard(async () => {
      if (name === undefined) await this.db.updateTable('fg_users').set({ sessions_not_before: at }).execute();
      else await this.update(name, { sessions_not_before: at });
    });
  }

  delete(name: string): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await requireUser(tx, name);
        await tx.deleteFrom('fg_user_roles').where('user_name', '=', name).execute();
        await tx.deleteFrom('fg_users').where('name', '=', name).execute();
      }),
    );
  }
}
