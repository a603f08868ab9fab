/**
 * The registry on SQL through kysely: one set of parameterised queries for SQLite and
 * PostgreSQL, one class per store. Backend failures become UNAVAILABLE, so callers fail closed.
 */
import { Migrator, type Kysely } from 'kysely';
import type { Registry } from '../registry.js';
import { sqlGuard } from './guard.js';
import { registryMigrations } from './migrations.js';
import type { RegistryDatabase } from './schema.js';
import { SqlApiKeys } from './sql-api-keys.js';
import { SqlClients } from './sql-clients.js';
import { SqlDeviceCodes } from './sql-device-codes.js';
import { SqlRefreshTokens } from './sql-refresh-tokens.js';
import { SqlRoles } from './sql-roles.js';
import { SqlSecrets } from './sql-secrets.js';
import { SqlSigningKeys } from './sql-signing-keys.js';
import { SqlUsers } from './sql-users.js';

/** Opens the registry on `db` and brings its schema up to date. */
export async function openSqlRegistry(db: Kysely<RegistryDatabase>, kind: string): Promise<Registry> {
  const guard = sqlGuard(kind);
  await guard(async () => {
    const { error, results } = await new Migrator({ db, provider: registryMigrations }).migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) throw error ?? new Error(`migration ${failed?.migrationName} failed`);
  });
  return {
    kind,
    users: new SqlUsers(db, guard),
    roles: new SqlRoles(db, guard),
    secrets: new SqlSecrets(db, guard),
    clients: new SqlClients(db, guard),
    apiKeys: new SqlApiKeys(db, guard),
    signingKeys: new SqlSigningKeys(db, guard),
    refreshTokens: new SqlRefreshTokens(db, guard),
    deviceCodes: new SqlDeviceCodes(db, guard),
    close: () => db.destroy(),
  };
}
