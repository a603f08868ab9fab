/**
 * Idle engine connections, by what they hold: the owner and the views (name → source key)
 * created in them. A statement whose owner and tables match takes one and skips connecting and
 * creating its views; no other owner ever gets it. Bounded in number and in idle time.
 */
import type { ConnectionHandle, NativeDuckDB } from './native.js';

interface Idle {
  readonly key: string;
  readonly conn: ConnectionHandle;
  readonly since: number;
}

export class ConnectionPool {
  private idle: Idle[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly native: NativeDuckDB,
    private readonly max = 16,
    private readonly idleMs = 30_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now() - this.idleMs), Math.min(this.idleMs, 10_000));
    this.sweeper.unref();
  }

  take(key: string): ConnectionHandle | undefined {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      if (this.idle[i]!.key === key) return this.idle.splice(i, 1)[0]!.conn;
    }
    return undefined;
  }

  give(key: string, conn: ConnectionHandle): void {
    this.idle.push({ key, conn, since: Date.now() });
    while (this.idle.length > this.max) this.drop(this.idle.shift()!);
  }

  /** Disconnects every idle connection (shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweep(Infinity);
  }

  get size(): number {
    return this.idle.length;
  }

  private sweep(before: number): void {
    const keep: Idle[] = [];
    for (const i of this.idle) (i.since < before ? this.drop(i) : keep.push(i));
    this.idle = keep;
  }

  private drop(i: Idle): void {
    this.native.disconnect(i.conn, () => {});
  }
}

/** The pool key: whose connection it is and exactly which views it holds. */
export function poolKey(owner: string, views: readonly { name: string; key: string; view?: { select: string; where?: string } }[]): string {
  return JSON.stringify([owner, ...views.map((v) => [v.name, v.key, v.view?.select, v.view?.where])]);
}

