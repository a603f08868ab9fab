/**
 * Replicas sharing a catalog must share its data directory: a manifest names segment files that
 * only exist there. The first replica writes a random id into a marker file in the directory and
 * into the catalog; every later start compares the two, so a replica given its own directory by
 * mistake stops with a clear message instead of answering NOT_FOUND for files it cannot see.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { failedPrecondition } from '../../core/errors.js';
import { SCHEMA_LOCK } from './catalog-tables.js';

export const MARKER = '.flightgate-catalog';

async function readMarker(root: string): Promise<string | undefined> {
  try {
    return (await readFile(join(root, MARKER), 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeMarker(root: string, id: string): Promise<void> {
  const tmp = join(root, `${MARKER}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${id}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(root, MARKER));
  const dir = await open(root, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Checks that `root` is the directory the catalog describes, binding them on first use. Returns true when this call bound them. */
export async function checkSharedDirectory(client: pg.PoolClient, root: string): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const row = await client.query<{ value: string }>("SELECT value FROM fg_catalog_meta WHERE key = 'directory_id'");
    const recorded = row.rows[0]?.value;
    const marker = await readMarker(root);
    let bound = false;
    if (!recorded && !marker) {
      const id = randomBytes(16).toString('hex');
      await writeMarker(root, id);
      await client.query("INSERT INTO fg_catalog_meta (key, value) VALUES ('directory_id', $1)", [id]);
      bound = true;
    } else if (recorded !== marker) {
      throw failedPrecondition(
        !marker
          ? `${root} is not the data directory of the shared catalog in databaseUrl (it has no ${MARKER} file): every replica must use the same shared dataDir`
          : !recorded
            ? `${root} belongs to another shared catalog (its ${MARKER} is not recorded in databaseUrl's database)`
            : `${root} belongs to another shared catalog than databaseUrl's (${MARKER} differs): every replica must use the same shared dataDir`,
      );
    }
    await client.query('COMMIT');
    return bound;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
