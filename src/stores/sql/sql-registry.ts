/**
 * The registry on SQL through kysely: one set of parameterised queries for SQLite and
 * PostgreSQL. Backend failures become UNAVAILABLE, so callers fail closed.
 */
import { Migrator, type Kysely, type Transaction } from 'kysely';
import type { DatasetAction } from '../../core/actions.js';
import { isDatasetAction } from '../../core/actions.js';
import { alreadyExists, notFound } from '../../core/errors.js';
import type { Grant, Registry, RoleRecord, UserRecord } from '../registry.js';
import { isUniqueViolation, num, sqlGuard, type SqlGuard } from './guard.js';
import { registryMigrations } from './migrations.js';
import type { RegistryDatabase } from './schema.js';
import { SqlApiKeys } from './sql-api-keys.js';
import { SqlClients } from './sql-clients.js';
import { SqlRefreshTokens } from './sql-refresh-tokens.js';
import { SqlSigningKeys } from './sql-signing-keys.js';

type Db = Kysely<RegistryDatabase>;

export class SqlRegistry implements Registry {
  private readonly guard: SqlGuard;
  readonly clients: SqlClients;
  readonly apiKeys: SqlApiKeys;
  readonly signingKeys: SqlSigningKeys;
  readonly refreshTokens: SqlRefreshTokens;

  private constructor(
    private readonly db: Db,
    readonly kind: string,
  ) {
    this.guard = sqlGuard(kind);
    this.clients = new SqlClients(db, this.guard);
    this.apiKeys = new SqlApiKeys(db, this.guard);
    this.signingKeys = new SqlSigningKeys(db, this.guard);
    this.refreshTokens = new SqlRefreshTokens(db, this.guard);
  }

  /** Opens the registry and brings its schema up to date. */
  static async open(db: Db, kind: string): Promise<SqlRegistry> {
    const registry = new SqlRegistry(db, kind);
    await registry.guard(async () => {
      const { error, results } = await new Migrator({ db, provider: registryMigrations }).migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (error || failed) throw error ?? new Error(`migration ${failed?.migrationName} failed`);
    });
    return registry;
  }

  private async rolesOf(db: Db | Transaction<RegistryDatabase>, names: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(names.map((n) => [n, []]));
    if (names.length === 0) return out;
    const rows = await db.selectFrom('fg_user_roles').select(['user_name', 'role_name']).where('user_name', 'in', names).orderBy('role_name').execute();
    for (const r of rows) out.get(r.user_name)?.push(r.role_name);
    return out;
  }

  private toUser(row: { name: string; password_hash: string; disabled: number; sessions_not_before: number | string; created_at: number | string }, roles: string[]): UserRecord {
    return {
      name: row.name,
      passwordHash: row.password_hash,
      disabled: Number(row.disabled) !== 0,
      roles,
      sessionsNotBefore: num(row.sessions_not_before),
      createdAt: num(row.created_at),
    };
  }

  getUser(name: string): Promise<UserRecord | undefined> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('fg_users').selectAll().where('name', '=', name).executeTakeFirst();
      if (!row) return undefined;
      return this.toUser(row, (await this.rolesOf(this.db, [name])).get(name) ?? []);
    });
  }

  listUsers(): Promise<UserRecord[]> {
    return this.guard(async () => {
      const rows = await this.db.selectFrom('fg_users').selectAll().orderBy('name').execute();
      const roles = await this.rolesOf(this.db, rows.map((r) => r.name));
      return rows.map((r) => this.toUser(r, roles.get(r.name) ?? []));
    });
  }

  countUsers(): Promise<number> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('fg_users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
      return num(row.n);
    });
  }

  addUser(user: { name: string; passwordHash: string; roles?: readonly string[] }): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        if (await tx.selectFrom('fg_users').select('name').where('name', '=', user.name).executeTakeFirst()) {
          throw alreadyExists(`user "${user.name}" already exists`);
        }
        for (const role of user.roles ?? []) await this.requireRole(tx, role);
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

  private async requireUser(db: Db | Transaction<RegistryDatabase>, name: string): Promise<void> {
    if (!(await db.selectFrom('fg_users').select('name').where('name', '=', name).executeTakeFirst())) {
      throw notFound(`no user "${name}"`);
    }
  }

  private async requireRole(db: Db | Transaction<RegistryDatabase>, name: string): Promise<void> {
    if (!(await db.selectFrom('fg_roles').select('name').where('name', '=', name).executeTakeFirst())) {
      throw notFound(`no role "${name}" (create it with 'flightgate roles create ${name}')`);
    }
  }

  private async updateUser(name: string, values: { password_hash?: string; disabled?: number; sessions_not_before?: number }): Promise<void> {
    const result = await this.db.updateTable('fg_users').set(values).where('name', '=', name).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`no user "${name}"`);
  }

  setPassword(name: string, passwordHash: string): Promise<void> {
    return this.guard(() => this.updateUser(name, { password_hash: passwordHash, sessions_not_before: Date.now() }));
  }

  setDisabled(name: string, disabled: boolean): Promise<void> {
    return this.guard(() =>
      this.updateUser(name, disabled ? { disabled: 1, sessions_not_before: Date.now() } : { disabled: 0 }),
    );
  }

  revokeSessions(name: string | undefined, at: number): Promise<void> {
    return this.guard(async () => {
      if (name === undefined) await this.db.updateTable('fg_users').set({ sessions_not_before: at }).execute();
      else await this.updateUser(name, { sessions_not_before: at });
    });
  }

  deleteUser(name: string): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await this.requireUser(tx, name);
        await tx.deleteFrom('fg_user_roles').where('user_name', '=', name).execute();
        await tx.deleteFrom('fg_users').where('name', '=', name).execute();
      }),
    );
  }

  createRole(name: string): Promise<void> {
    return this.guard(async () => {
      try {
        await this.db.insertInto('fg_roles').values({ name, created_at: Date.now() }).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists(`role "${name}" already exists`);
        throw err;
      }
    });
  }

  deleteRole(name: string): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await this.requireRole(tx, name);
        await tx.deleteFrom('fg_grants').where('role_name', '=', name).execute();
        await tx.deleteFrom('fg_user_roles').where('role_name', '=', name).execute();
        await tx.deleteFrom('fg_roles').where('name', '=', name).execute();
      }),
    );
  }

  listRoles(): Promise<RoleRecord[]> {
    return this.guard(async () => {
      const roles = await this.db.selectFrom('fg_roles').select('name').orderBy('name').execute();
      const grants = await this.grants();
      const members = await this.db.selectFrom('fg_user_roles').selectAll().orderBy('user_name').execute();
      return roles.map((r) => ({
        name: r.name,
        grants: grants.filter((g) => g.role === r.name),
        members: members.filter((m) => m.role_name === r.name).map((m) => m.user_name),
      }));
    });
  }

  grant(role: string, pattern: string, actions: readonly DatasetAction[]): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await this.requireRole(tx, role);
        for (const action of new Set(actions)) {
          const exists = await tx
            .selectFrom('fg_grants')
            .select('action')
            .where('role_name', '=', role)
            .where('pattern', '=', pattern)
            .where('action', '=', action)
            .executeTakeFirst();
          if (!exists) await tx.insertInto('fg_grants').values({ role_name: role, pattern, action }).execute();
        }
      }),
    );
  }

  revoke(role: string, pattern: string, actions: readonly DatasetAction[]): Promise<number> {
    return this.guard(async () => {
      await this.requireRole(this.db, role);
      let q = this.db.deleteFrom('fg_grants').where('role_name', '=', role).where('pattern', '=', pattern);
      if (actions.length) q = q.where('action', 'in', [...actions]);
      const result = await q.executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  assignRole(user: string, role: string): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await this.requireUser(tx, user);
        await this.requireRole(tx, role);
        const exists = await tx.selectFrom('fg_user_roles').select('role_name').where('user_name', '=', user).where('role_name', '=', role).executeTakeFirst();
        if (!exists) await tx.insertInto('fg_user_roles').values({ user_name: user, role_name: role }).execute();
      }),
    );
  }

  unassignRole(user: string, role: string): Promise<void> {
    return this.guard(async () => {
      const result = await this.db.deleteFrom('fg_user_roles').where('user_name', '=', user).where('role_name', '=', role).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound(`user "${user}" does not have role "${role}"`);
    });
  }

  grants(): Promise<Grant[]> {
    return this.guard(async () => {
      const rows = await this.db.selectFrom('fg_grants').selectAll().orderBy('role_name').orderBy('pattern').orderBy('action').execute();
      return rows.filter((r) => isDatasetAction(r.action)).map((r) => ({ role: r.role_name, pattern: r.pattern, action: r.action as DatasetAction }));
    });
  }

  secret(name: string, create: () => string): Promise<string> {
    return this.guard(async () => {
      const existing = await this.db.selectFrom('fg_secrets').select('value').where('name', '=', name).executeTakeFirst();
      if (existing) return existing.value;
      try {
        await this.db.insertInto('fg_secrets').values({ name, value: create(), created_at: Date.now() }).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      const row = await this.db.selectFrom('fg_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
      return row.value;
    });
  }

  replaceSecret(name: string, expected: string, value: string): Promise<void> {
    return this.guard(async () => {
      await this.db.updateTable('fg_secrets').set({ value }).where('name', '=', name).where('value', '=', expected).execute();
    });
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}
