/** Opens the registry: PostgreSQL when a URL is configured, else the embedded SQLite file. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Registry } from '../registry.js';
import type { RegistryDatabase } from './schema.js';
import { openSqlRegistry } from './sql-registry.js';

export interface RegistryLocation {
  databaseUrl?: string;
  dataDir: string;
  onBackendError?: (err: Error) => void;
}

export const SQLITE_FILE = 'flightgate.db';

export async function openRegistry(location: RegistryLocation): Promise<Registry> {
  if (location.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: location.databaseUrl,
      max: 10,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      // A query stuck on a dead connection must fail, not hang the call.
      query_timeout: 5000,
    });
    // Without a listener, an idle client losing its connection would crash the process.
    pool.on('error', (err) => location.onBackendError?.(err));
    const db = new Kysely<RegistryDatabase>({ dialect: new PostgresDialect({ pool }) });
    try {
      return await openSqlRegistry(db, 'postgres');
    } catch (err) {
      await db.destroy().catch(() => undefined);
      throw err;
    }
  }
  mkdirSync(location.dataDir, { recursive: true });
  const file = new Database(join(location.dataDir, SQLITE_FILE));
  file.pragma('journal_mode = WAL');
  // The CLI and the server write the same file; wait for each other's locks instead of failing.
  file.pragma('busy_timeout = 5000');
  const db = new Kysely<RegistryDatabase>({ dialect: new SqliteDialect({ database: file }) });
  return openSqlRegistry(db, 'sqlite');
}
