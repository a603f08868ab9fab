/** API keys in the SQL registry. */
import type { Kysely } from 'kysely';
import { alreadyExists, notFound } from '../../core/errors.js';
import type { ApiKeyRecord, ApiKeyRegistry } from '../api-key-registry.js';
import { isUniqueViolation, num, optNum, stringList, type SqlGuard } from './guard.js';
import type { ApiKeysTable, RegistryDatabase } from './schema.js';

const toKey = (r: ApiKeysTable): ApiKeyRecord => ({
  name: r.name,
  keyHash: r.key_hash,
  roles: stringList(r.roles),
  createdAt: num(r.created_at),
  expiresAt: optNum(r.expires_at),
  revokedAt: optNum(r.revoked_at),
  ...(r.owner ? { owner: r.owner } : {}),
  ...(r.label ? { label: r.label } : {}),
});

export class SqlApiKeys implements ApiKeyRegistry {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  add(key: { name: string; keyHash: string; roles: readonly string[]; expiresAt?: number; owner?: string; label?: string }): Promise<void> {
    return this.guard(async () => {
      for (const role of key.roles) {
        if (!(await this.db.selectFrom('fg_roles').select('name').where('name', '=', role).executeTakeFirst())) {
          throw notFound(`no role "${role}" (create it with 'flightgate roles create ${role}')`);
        }
      }
      try {
        await this.db
          .insertInto('fg_api_keys')
          .values({ name: key.name, key_hash: key.keyHash, roles: JSON.stringify([...new Set(key.roles)]), created_at: Date.now(), expires_at: key.expiresAt ?? null, revoked_at: null, owner: key.owner ?? null, label: key.label ?? null })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists(`API key "${key.name}" already exists`);
        throw err;
      }
    });
  }

  byHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('fg_api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
      return row && toKey(row);
    });
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.guard(async () => (await this.db.selectFrom('fg_api_keys').selectAll().orderBy('name').execute()).map(toKey));
  }

  listOwned(owner: string): Promise<ApiKeyRecord[]> {
    return this.guard(async () => (await this.db.selectFrom('fg_api_keys').selectAll().where('owner', '=', owner).orderBy('created_at', 'desc').execute()).map(toKey));
  }

  revoke(name: string, at: number): Promise<void> {
    return this.guard(async () => {
      const r = await this.db.updateTable('fg_api_keys').set({ revoked_at: at }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        const exists = await this.db.selectFrom('fg_api_keys').select('name').where('name', '=', name).executeTakeFirst();
        if (!exists) throw notFound(`no API key "${name}"`);
      }
    });
  }
}
