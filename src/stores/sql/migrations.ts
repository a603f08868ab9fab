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
  '0002_oauth_clients_keys_tokens': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('fg_clients')
        .addColumn('client_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(128)', (c) => c.notNull().unique())
        .addColumn('secret_hash', 'varchar(128)', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('secret_rotated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('fg_api_keys')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('fg_signing_keys')
        .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('alg', 'varchar(16)', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retire_at', 'bigint')
        .execute();
      await db.schema
        .createTable('fg_refresh_families')
        .addColumn('family_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('client_id', 'varchar(64)')
        .addColumn('subject', 'varchar(256)', (c) => c.notNull())
        .addColumn('subject_kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_reason', 'varchar(64)')
        .execute();
      await db.schema
        .createTable('fg_refresh_tokens')
        .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('family_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('parent_hash', 'varchar(64)')
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('fg_refresh_tokens_family').on('fg_refresh_tokens').column('family_id').execute();
    },
  },
  '0003_refresh_family_issuer': {
    // External subjects are only unique per issuer: a family must say whose subject it holds.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('fg_refresh_families').addColumn('subject_issuer', 'varchar(512)').execute();
    },
  },
  '0004_read_policies': {
    // Row filters and column rules of read grants, one per (role, pattern) read grant.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('fg_read_policies')
        .addColumn('role_name', 'varchar(128)', (c) => c.notNull())
        .addColumn('pattern', 'varchar(256)', (c) => c.notNull())
        .addColumn('row_filter', 'text')
        .addColumn('columns', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('fg_read_policies_pk', ['role_name', 'pattern'])
        .execute();
    },
  },
  '0005_owned_api_keys': {
    // Personal access tokens: API keys a signed-in person made for themselves, listed and revoked by them.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('fg_api_keys').addColumn('owner', 'varchar(640)').execute();
      await db.schema.alterTable('fg_api_keys').addColumn('label', 'varchar(128)').execute();
      await db.schema.createIndex('fg_api_keys_owner').on('fg_api_keys').column('owner').execute();
    },
  },
  '0006_device_codes': {
    // Device authorization requests (RFC 8628), shared by replicas.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('fg_device_codes')
        .addColumn('device_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_code', 'varchar(16)', (c) => c.notNull().unique())
        .addColumn('client_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('interval_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_poll_at', 'bigint')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('subject', 'varchar(256)')
        .addColumn('subject_kind', 'varchar(16)')
        .addColumn('subject_issuer', 'varchar(512)')
        .addColumn('roles', 'text')
        .execute();
    },
  },
};

export const registryMigrations: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
