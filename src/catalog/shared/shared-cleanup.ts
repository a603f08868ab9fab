/**
 * Deleting files in a directory other replicas read, safely:
 * - a segment a commit replaced or a drop removed is kept until its `not_before` (long enough for
 *   any replica still streaming it, or holding a ticket to it, to finish), then deleted by
 *   whichever replica gets to it first;
 * - the leftovers of an upload (its temporary file, or a segment renamed into place whose commit
 *   never landed) are deleted only once the replica that wrote them is gone, never while it may
 *   still be writing them. Files carry their writer's id in their names.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { isValidDatasetName } from '../names.js';
import { datasetLock, NOW_MS } from './catalog-tables.js';

/** The writer id a file's name carries: `.NAME.WRITER.RANDOM.upload` in the root, `WRITER.REST.arrows` in a dataset's directory. */
export function writerOf(file: string, inRoot: boolean): string | undefined {
  const parts = file.split('.');
  if (inRoot) return file.startsWith('.') && file.endsWith('.upload') && parts.length >= 5 ? parts[parts.length - 3] : undefined;
  return file.endsWith('.arrows') && parts.length === 3 ? parts[0] : undefined;
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const out = await work(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    // A connection that failed a query is destroyed rather than handed to the next caller.
    broken = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}

const missingIsFine = (err: NodeJS.ErrnoException): void => {
  if (err.code !== 'ENOENT') throw err;
};

/** Deletes retired segments whose time has come; returns how many. */
export async function deleteRetired(pool: pg.Pool, root: string): Promise<number> {
  const datasets = await inTransaction(pool, async (client) => {
    const due = await client.query<{ path: string; dataset: string }>(
      `SELECT path, dataset FROM fg_catalog_retired WHERE not_before <= ${NOW_MS} ORDER BY not_before LIMIT 500 FOR UPDATE SKIP LOCKED`,
    );
    for (const row of due.rows) await rm(join(root, row.path)).catch(missingIsFine);
    if (due.rows.length) await client.query('DELETE FROM fg_catalog_retired WHERE path = ANY($1)', [due.rows.map((r) => r.path)]);
    return [...new Set(due.rows.map((r) => r.dataset))];
  });
  // A dropped dataset's directory goes once it is empty, under the dataset's lock (a create may be about to use it).
  for (const name of datasets) {
    await inTransaction(pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${datasetLock})`, [name]);
      const live = await client.query('SELECT 1 FROM fg_catalog_datasets WHERE name = $1 AND manifest IS NOT NULL', [name]);
      if (live.rows.length === 0) await rmdir(join(root, name)).catch(() => undefined);
    });
  }
  return datasets.length;
}

/**
 * Declares gone the replicas silent for `timeoutMs` and deletes their leftovers. The gone rows are
 * locked while their files go, and a commit holds a share lock on its writer's row, so no commit
 * of a gone replica can land meanwhile. Returns the ids declared gone.
 */
export async function reapGoneReplicas(pool: pg.Pool, root: string, timeoutMs: number, self: string): Promise<string[]> {
  return inTransaction(pool, async (client) => {
    // Never itself: a replica that is running this is alive, however late its last heartbeat (PostgreSQL may just be back).
    const gone = await client.query<{ id: string }>(
      `SELECT id FROM fg_catalog_replicas WHERE heartbeat_at < ${NOW_MS} - $1 AND id <> $2 FOR UPDATE SKIP LOCKED`,
      [timeoutMs, self],
    );
    const ids = new Set(gone.rows.map((r) => r.id));
    if (ids.size === 0) return [];
    const referenced = new Set<string>();
    const manifests = await client.query<{ name: string; manifest: string }>('SELECT name, manifest FROM fg_catalog_datasets WHERE manifest IS NOT NULL');
    for (const row of manifests.rows) {
      const parsed = JSON.parse(row.manifest) as { segments: { file: string }[] };
      for (const s of parsed.segments) referenced.add(`${row.name}/${s.file}`);
    }
    for (const row of (await client.query<{ path: string }>('SELECT path FROM fg_catalog_retired')).rows) referenced.add(row.path);
    const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    for (const entry of entries) {
      if (entry.isFile()) {
        const writer = writerOf(entry.name, true);
        if (writer && ids.has(writer)) await rm(join(root, entry.name)).catch(missingIsFine);
      } else if (entry.isDirectory() && isValidDatasetName(entry.name)) {
        for (const file of await readdir(join(root, entry.name)).catch(() => [] as string[])) {
          const writer = writerOf(file, false);
          if (writer && ids.has(writer) && !referenced.has(`${entry.name}/${file}`)) await rm(join(root, entry.name, file)).catch(missingIsFine);
        }
      }
    }
    await client.query('DELETE FROM fg_catalog_replicas WHERE id = ANY($1)', [[...ids]]);
    return [...ids];
  });
}
