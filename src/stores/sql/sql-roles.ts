/** Roles, grants and memberships in the SQL registry. */
import type { Kysely } from 'kysely';
import { checkReadPolicy, PolicyError, restricts, type ReadPolicy } from '../../core/read-policy.js';
import { isDatasetAction, type DatasetAction } from '../../core/actions.js';
import { alreadyExists, invalidArgument, notFound } from '../../core/errors.js';
import type { Grant, RoleRecord, RoleStore } from '../role-store.js';
import { requireRole, requireUser } from './existence.js';
import { isUniqueViolation, type SqlGuard } from './guard.js';
import type { RegistryDatabase } from './schema.js';

export class SqlRoles implements RoleStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  create(name: string): Promise<void> {
    return this.guard(async () => {
      try {
        await this.db.insertInto('fg_roles').values({ name, created_at: Date.now() }).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists(`role "${name}" already exists`);
        throw err;
      }
    });
  }

  delete(name: string): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await requireRole(tx, name);
        await tx.deleteFrom('fg_grants').where('role_name', '=', name).execute();
        await tx.deleteFrom('fg_read_policies').where('role_name', '=', name).execute();
        await tx.deleteFrom('fg_user_roles').where('role_name', '=', name).execute();
        await tx.deleteFrom('fg_roles').where('name', '=', name).execute();
      }),
    );
  }

  list(): Promise<RoleRecord[]> {
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

  async grant(role: string, pattern: string, actions: readonly DatasetAction[], policy?: ReadPolicy): Promise<void> {
    if (policy) {
      if (!actions.includes('read')) throw invalidArgument('row and column policies belong to read grants: add --action read');
      try {
        checkReadPolicy(policy);
      } catch (err) {
        if (err instanceof PolicyError) throw invalidArgument(err.message);
        throw err;
      }
    }
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await requireRole(tx, role);
        if (actions.includes('read')) {
          await tx.deleteFrom('fg_read_policies').where('role_name', '=', role).where('pattern', '=', pattern).execute();
          if (restricts(policy)) {
            await tx
              .insertInto('fg_read_policies')
              .values({ role_name: role, pattern, row_filter: policy!.rows ?? null, columns: JSON.stringify(policy!.columns ?? {}), updated_at: Date.now() })
              .execute();
          }
        }
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
      await requireRole(this.db, role);
      return this.db.transaction().execute(async (tx) => {
        let q = tx.deleteFrom('fg_grants').where('role_name', '=', role).where('pattern', '=', pattern);
        if (actions.length) q = q.where('action', 'in', [...actions]);
        const result = await q.executeTakeFirst();
        if (!actions.length || actions.includes('read')) await tx.deleteFrom('fg_read_policies').where('role_name', '=', role).where('pattern', '=', pattern).execute();
        return Number(result.numDeletedRows);
      });
    });
  }

  assign(user: string, role: string): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await requireUser(tx, user);
        await requireRole(tx, role);
        const exists = await tx.selectFrom('fg_user_roles').select('role_name').where('user_name', '=', user).where('role_name', '=', role).executeTakeFirst();
        if (!exists) await tx.insertInto('fg_user_roles').values({ user_name: user, role_name: role }).execute();
      }),
    );
  }

  unassign(user: string, role: string): Promise<void> {
    return this.guard(async () => {
      const result = await this.db.deleteFrom('fg_user_roles').where('user_name', '=', user).where('role_name', '=', role).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound(`user "${user}" does not have role "${role}"`);
    });
  }

  grants(): Promise<Grant[]> {
    return this.guard(async () => {
      const rows = await this.db.selectFrom('fg_grants').selectAll().orderBy('role_name').orderBy('pattern').orderBy('action').execute();
      const policies = new Map<string, ReadPolicy>();
      for (const p of await this.db.selectFrom('fg_read_policies').selectAll().execute()) policies.set(`${p.role_name}\0${p.pattern}`, storedPolicy(p.row_filter, p.columns));
      return rows
        .filter((r) => isDatasetAction(r.action))
        .map((r) => {
          const policy = r.action === 'read' ? policies.get(`${r.role_name}\0${r.pattern}`) : undefined;
          return { role: r.role_name, pattern: r.pattern, action: r.action as DatasetAction, ...(policy ? { policy } : {}) };
        });
    });
  }
}

/**
 * A stored policy as read back. Rows someone edited by hand are not trusted to be well formed: a
 * policy that does not read as one restricts everything (a filter that is always false), so a
 * damaged row can only ever show less.
 */
function storedPolicy(rows: string | null, columns: string): ReadPolicy {
  try {
    const parsed = JSON.parse(columns) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) throw new Error('columns');
    const policy: ReadPolicy = { ...(rows !== null ? { rows } : {}), columns: parsed as Record<string, string> };
    checkReadPolicy(policy);
    return policy;
  } catch {
    return { rows: 'false' };
  }
}
