/** Shared server secrets in the SQL registry; concurrent creators agree on the first value written. */
import type { Kysely } from 'kysely';
import type { SecretStore } from '../secret-store.js';
import { isUniqueViolation, type SqlGuard } from './guard.js';
import type { RegistryDatabase } from './schema.js';

export class SqlSecrets implements SecretStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  get(name: string, create: () => string): Promise<string> {
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

  replace(name: string, expected: string, value: string): Promise<void> {
    return this.guard(async () => {
      await this.db.updateTable('fg_secrets').set({ value }).where('name', '=', name).where('value', '=', expected).execute();
    });
  }
}
