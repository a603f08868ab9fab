/**
 * The shared catalog's tables in PostgreSQL, beside the registry's: manifests by dataset (a
 * dropped dataset keeps a row without a manifest, so revisions only grow), segment files waiting
 * to be deleted, the replicas alive, and the identity of the data directory they share. Created
 * idempotently by whichever replica starts first, under a lock.
 */
import type pg from 'pg';

/** One lock id for the catalog's own schema work, chosen not to collide with per-dataset locks (which hash names). */
export const SCHEMA_LOCK = 0x46474354; // "FGCT"

/** The advisory lock of a dataset's commits, for a query whose first parameter is the dataset's name (the two-key form, apart from SCHEMA_LOCK's). */
export const datasetLock = "1178813268, hashtext('fg_catalog:' || $1)";

const DDL = [
  'CREATE SEQUENCE IF NOT EXISTS fg_catalog_revision',
  `CREATE TABLE IF NOT EXISTS fg_catalog_datasets (
     name varchar(128) PRIMARY KEY,
     revision bigint NOT NULL,
     manifest text,
     updated_at bigint NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS fg_catalog_retired (
     path text PRIMARY KEY,
     dataset varchar(128) NOT NULL,
     not_before bigint NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS fg_catalog_replicas (
     id varchar(32) PRIMARY KEY,
     location text,
     started_at bigint NOT NULL,
     heartbeat_at bigint NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS fg_catalog_meta (
     key varchar(64) PRIMARY KEY,
     value text NOT NULL)`,
];

/** The database's clock in milliseconds: every replica compares times on the same clock. */
export const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export async function createCatalogTables(client: pg.PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    for (const statement of DDL) await client.query(statement);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
