/**
 * The registry schema, as ordered migrations shared by SQLite and PostgreSQL. A change to the
 * schema is a new entry here; existing entries never change.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_users_roles_grants': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('fg_users')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('password_hash', 'varchar(256)', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('sessions_not_before', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('fg_roles')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('fg_user_roles')
        .addColumn('user_name', 'varchar(128)', (c) => c.notNull())
        .addColumn('role_name', 'varchar(128)', (c) => c.notNull())
        .addPrimaryKeyConstraint('fg_user_roles_pk', ['user_name', 'role_name'])
        .execute();
      await db.schema
        .createTable('fg_grants')
        .addColumn('role_name', 'varchar(128)', (c) => c.notNull())
        .addColumn('pattern', 'varchar(256)', (c) => c.notNull())
        .addColumn('action', 'varchar(16)', (c) => c.notNull())
        .addPrimaryKeyConstraint('fg_grants_pk', ['role_name', 'pattern', 'action'])
        .execute();
      await db.schema
        .createTable('fg_secrets')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
};

export const registryMigrations: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
