/**
 * The catalog of record in PostgreSQL, for replicas sharing one data directory. A commit runs in
 * one transaction holding the dataset's advisory lock, so commits through different replicas are
 * serialised (every append lands, a create has one winner); it notifies the other replicas
 * (LISTEN/NOTIFY), which read the dataset again, and each replica also re-reads the whole catalog
 * every `refreshMs` in case a notification was lost. Segments a commit no longer references are
 * deleted later, by any replica, once no reader can still need them.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { FlightgateError, unavailable } from '../../core/errors.js';
import type { CatalogRecord, ChangePlan, RecordedDataset } from '../managed/catalog-record.js';
import { readManifest, type Manifest } from '../managed/manifest.js';
import { isValidDatasetName } from '../names.js';
import { createCatalogTables, datasetLock, NOW_MS } from './catalog-tables.js';
import { checkSharedDirectory } from './directory-identity.js';
import { ReplicaMembership, type Replica } from './replica-membership.js';
import { deleteRetired, reapGoneReplicas } from './shared-cleanup.js';

const CHANNEL = 'fg_catalog';

export interface SharedCatalogOptions {
  readonly databaseUrl: string;
  /** The directory of managed datasets, shared by the replicas. */
  readonly root: string;
  /** How long a replaced or dropped segment file is kept for readers elsewhere. */
  readonly retainMs: number;
  readonly refreshMs: number;
  readonly heartbeatMs: number;
  readonly replicaTimeoutMs: number;
  /** This replica's advertised Flight location, for the others to list. */
  readonly location?: string;
  readonly onError: (err: Error) => void;
  readonly onInfo?: (message: string) => void;
}

interface Row {
  name: string;
  revision: string;
  manifest: string | null;
}

const toRecorded = (row: Row): RecordedDataset => ({
  name: row.name,
  revision: Number(row.revision),
  manifest: row.manifest === null ? undefined : (JSON.parse(row.manifest) as Manifest),
});

const backendDown = (err: unknown): FlightgateError =>
  err instanceof FlightgateError ? err : unavailable('the shared catalog (PostgreSQL) is unavailable', err);

export class PostgresCatalogRecord implements CatalogRecord {
  readonly shared = true;
  private listener: ((name: string | undefined) => void) | undefined;
  private listenClient: pg.Client | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private maintaining = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: SharedCatalogOptions,
    readonly membership: ReplicaMembership,
  ) {}

  static async open(options: SharedCatalogOptions): Promise<PostgresCatalogRecord> {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 8, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30_000, query_timeout: 10_000 });
    pool.on('error', (err) => options.onError(err));
    let bound = false;
    try {
      const client = await pool.connect();
      try {
        await createCatalogTables(client);
        bound = await checkSharedDirectory(client, options.root);
      } finally {
        client.release();
      }
      const membership = new ReplicaMembership(pool, options.location, options.heartbeatMs, options.onError);
      await membership.join();
      const record = new PostgresCatalogRecord(pool, options, membership);
      if (bound) await record.adoptDirectory();
      return record;
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err instanceof FlightgateError ? err : unavailable(`the shared catalog (PostgreSQL) could not be opened: ${(err as Error).message}`, err);
    }
  }

  writerTag(): string {
    return this.membership.id;
  }

  /**
   * The Flight locations of the replicas that heartbeated within the last three beats, this one
   * first; none unless this one advertises a location (it could not list itself).
   */
  async locations(): Promise<string[]> {
    if (!this.options.location) return [];
    const alive: Replica[] = await this.membership.alive(3 * this.options.heartbeatMs);
    const others = alive.filter((r) => r.id !== this.membership.id && r.location && r.location !== this.options.location).map((r) => r.location!);
    return [this.options.location, ...new Set(others)];
  }

  async loadAll(): Promise<RecordedDataset[]> {
    try {
      const r = await this.pool.query<Row>('SELECT name, revision, manifest FROM fg_catalog_datasets');
      return r.rows.map(toRecorded);
    } catch (err) {
      throw backendDown(err);
    }
  }

  async read(name: string): Promise<RecordedDataset> {
    try {
      const r = await this.pool.query<Row>('SELECT name, revision, manifest FROM fg_catalog_datasets WHERE name = $1', [name]);
      return r.rows[0] ? toRecorded(r.rows[0]) : { name, revision: 0, manifest: undefined };
    } catch (err) {
      throw backendDown(err);
    }
  }

  /**
   * A directory the embedded catalog used, now bound to the shared one: its datasets' manifest
   * files are recorded (once; the catalog is the record from then on).
   */
  private async adoptDirectory(): Promise<void> {
    const entries = await readdir(this.options.root, { withFileTypes: true }).catch(() => []);
    let adopted = 0;
    for (const entry of entries) {
      if (!entry.isDirectory() || !isValidDatasetName(entry.name)) continue;
      const manifest = await readManifest(join(this.options.root, entry.name)).catch(() => undefined);
      if (!manifest) continue;
      const r = await this.pool.query(
        `INSERT INTO fg_catalog_datasets (name, revision, manifest, updated_at) VALUES ($1, nextval('fg_catalog_revision'), $2, ${NOW_MS})
         ON CONFLICT (name) DO NOTHING`,
        [entry.name, JSON.stringify(manifest)],
      );
      adopted += r.rowCount ?? 0;
    }
    if (adopted) this.options.onInfo?.(`shared catalog: recorded the ${adopted} uploaded dataset${adopted > 1 ? 's' : ''} already in ${this.options.root}`);
  }

  async change(name: string, plan: (current: RecordedDataset) => Promise<ChangePlan>, writer?: string): Promise<RecordedDataset> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw backendDown(err);
    }
    let planned: ChangePlan | undefined;
    let committing = false;
    // A connection that failed a query goes back to the pool destroyed, not reused in an unknown state.
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${datasetLock})`, [name]);
      if (writer !== undefined) {
        // A key-share lock: heartbeats still update the row, but no one can declare this writer gone until the commit ends.
        const me = await client.query('SELECT 1 FROM fg_catalog_replicas WHERE id = $1 FOR KEY SHARE', [writer]);
        if (me.rows.length === 0) {
          throw unavailable('this replica lost its place in the shared catalog while the upload ran (it was cut off from PostgreSQL for too long); upload again');
        }
      }
      const current = await client.query<Row>('SELECT name, revision, manifest FROM fg_catalog_datasets WHERE name = $1', [name]);
      planned = await plan(current.rows[0] ? toRecorded(current.rows[0]) : { name, revision: 0, manifest: undefined });
      const written = await client.query<{ revision: string }>(
        `INSERT INTO fg_catalog_datasets (name, revision, manifest, updated_at) VALUES ($1, nextval('fg_catalog_revision'), $2, ${NOW_MS})
         ON CONFLICT (name) DO UPDATE SET revision = EXCLUDED.revision, manifest = EXCLUDED.manifest, updated_at = EXCLUDED.updated_at
         RETURNING revision`,
        [name, planned.manifest ? JSON.stringify(planned.manifest) : null],
      );
      if (planned.retired.length) {
        await client.query(
          `INSERT INTO fg_catalog_retired (path, dataset, not_before) SELECT unnest($1::text[]), $2, ${NOW_MS} + $3 ON CONFLICT (path) DO NOTHING`,
          [planned.retired.map((f) => `${name}/${f}`), name, this.options.retainMs],
        );
      }
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, name]);
      committing = true;
      await client.query('COMMIT');
      return { name, revision: Number(written.rows[0]!.revision), manifest: planned.manifest };
    } catch (err) {
      if (!(err instanceof FlightgateError)) broken = err as Error;
      if (!committing) {
        await client.query('ROLLBACK').catch(() => undefined);
        // Rolled back (or never begun): the change certainly did not land.
        await planned?.undo?.().catch(() => undefined);
      }
      // A failed COMMIT leaves the outcome unknown: the files stay (the cleanup of gone replicas, or a later commit, settles them).
      throw backendDown(err);
    } finally {
      client.release(broken);
    }
  }

  watch(listener: (name: string | undefined) => void): void {
    this.listener = listener;
    void this.listen();
    this.every(this.options.refreshMs, async () => this.listener?.(undefined));
    this.every(Math.min(this.options.replicaTimeoutMs / 2, 5000), () => this.maintain());
  }

  private every(ms: number, work: () => Promise<void>): void {
    const t = setInterval(() => void work().catch((err: Error) => this.options.onError(err)), ms);
    t.unref();
    this.timers.push(t);
  }

  /** Deletes what is due and cleans up after gone replicas; one run at a time. */
  private async maintain(): Promise<void> {
    if (this.maintaining || this.closed) return;
    this.maintaining = true;
    try {
      await deleteRetired(this.pool, this.options.root);
      if (!this.membership.steadyFor(this.options.replicaTimeoutMs)) return;
      const gone = await reapGoneReplicas(this.pool, this.options.root, this.options.replicaTimeoutMs, this.membership.id);
      if (gone.length) this.options.onInfo?.(`shared catalog: replica${gone.length > 1 ? 's' : ''} ${gone.join(', ')} gone; their unfinished uploads were cleaned up`);
    } finally {
      this.maintaining = false;
    }
  }

  /** Keeps one connection listening; after a reconnect everything is read again (notifications may have been missed). */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.options.databaseUrl, connectionTimeoutMillis: 3000 });
    let retried = false;
    const retry = (err?: Error): void => {
      if (retried || this.closed) return;
      retried = true;
      if (err) this.options.onError(err);
      client.end().catch(() => undefined);
      if (this.listenClient === client) this.listenClient = undefined;
      const t = setTimeout(() => void this.listen(), 1000);
      t.unref();
    };
    client.on('error', retry);
    client.on('end', () => retry());
    client.on('notification', (msg) => {
      if (msg.channel === CHANNEL && msg.payload) this.listener?.(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listenClient = client;
      this.listener?.(undefined);
    } catch (err) {
      retry(err as Error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.membership.leave();
    await this.listenClient?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
