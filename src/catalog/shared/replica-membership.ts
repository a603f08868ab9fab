/**
 * The replicas sharing a catalog, each a row with a heartbeat. A replica's id tags the files it
 * writes; one that stops heartbeating is declared gone by another, which cleans up its unfinished
 * uploads and deletes its row. A replica that finds its row deleted (it was paused, or cut off
 * from PostgreSQL, for longer than the timeout) joins again under a new id, and its commits under
 * the old id are refused, since their files may have been cleaned up meanwhile.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { NOW_MS } from './catalog-tables.js';

export interface Replica {
  readonly id: string;
  readonly location: string | undefined;
}

const newId = (): string => randomBytes(8).toString('hex');

export class ReplicaMembership {
  private current = newId();
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  /** Since when every heartbeat has reached PostgreSQL (undefined after a failed one). */
  private healthySince: number | undefined = Date.now();

  constructor(
    private readonly pool: pg.Pool,
    private readonly location: string | undefined,
    private readonly heartbeatMs: number,
    private readonly onError: (err: Error) => void,
  ) {}

  get id(): string {
    return this.current;
  }

  async join(): Promise<void> {
    await this.pool.query(
      `INSERT INTO fg_catalog_replicas (id, location, started_at, heartbeat_at) VALUES ($1, $2, ${NOW_MS}, ${NOW_MS})
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`,
      [this.current, this.location ?? null],
    );
    this.timer ??= setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const r = await this.pool.query(`UPDATE fg_catalog_replicas SET heartbeat_at = ${NOW_MS} WHERE id = $1`, [this.current]);
      if (r.rowCount === 0) {
        this.current = newId();
        await this.join();
      }
      this.healthySince ??= Date.now();
    } catch (err) {
      this.healthySince = undefined;
      this.onError(err as Error);
    } finally {
      this.beating = false;
    }
  }

  /**
   * Whether this replica has reached PostgreSQL without a break for `ms`: only then may it judge
   * others gone (right after an outage every replica's heartbeat is stale, and none is gone).
   */
  steadyFor(ms: number): boolean {
    return this.healthySince !== undefined && Date.now() - this.healthySince >= ms;
  }

  /** The replicas that heartbeated within `timeoutMs`. */
  async alive(timeoutMs: number): Promise<Replica[]> {
    const r = await this.pool.query<{ id: string; location: string | null }>(
      `SELECT id, location FROM fg_catalog_replicas WHERE heartbeat_at >= ${NOW_MS} - $1 ORDER BY id`,
      [timeoutMs],
    );
    return r.rows.map((row) => ({ id: row.id, location: row.location ?? undefined }));
  }

  /** Stops heartbeating and marks this replica gone at once, so that any other cleans up after it. */
  async leave(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.pool.query('UPDATE fg_catalog_replicas SET heartbeat_at = 0 WHERE id = $1', [this.current]).catch(() => undefined);
  }
}
