/** Checks shared by the user and role tables: a missing name is NOT_FOUND with what to do about it. */
import type { Kysely, Transaction } from 'kysely';
import { notFound } from '../../core/errors.js';
import type { RegistryDatabase } from './schema.js';

export type Queryable = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;

export async function requireUser(db: Queryable, name: string): Promise<void> {
  if (!(await db.selectFrom('fg_users').select('name').where('name', '=', name).executeTakeFirst())) {
    throw notFound(`no user "${name}"`);
  }
}

export async function requireRole(db: Queryable, name: string): Promise<void> {
  if (!(await db.selectFrom('fg_roles').select('name').where('name', '=', name).executeTakeFirst())) {
    throw notFound(`no role "${name}" (create it with 'flightgate roles create ${name}')`);
  }
}
