/**
 * What the engine learned about a statement text, kept so that running it again (DoGet after
 * GetFlightInfo, a dashboard's refresh) skips the work: the tables its parse tree mentions once
 * the guard passed it, and the planner's estimate of its result. Bounded in entries and in the
 * bytes of text it holds; the least recently used goes first.
 */
import type { Schema } from 'apache-arrow';

export interface CheckedStatement {
  /** Table names the statement mentions, lower case. */
  readonly mentioned: ReadonlySet<string>;
  /** The planner's row estimate, and when it was taken. */
  estimate?: { rows: number; at: number };
  /** Bytes per result row, from the result's types once the statement was described. */
  rowBytes?: number;
  /** Its result and parameter schemas, by the views it was described over. */
  shapes?: Map<string, { readonly schema: Schema; readonly parameters: Schema }>;
}

export class StatementCache {
  private readonly entries = new Map<string, CheckedStatement>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 1024,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  get(sql: string): CheckedStatement | undefined {
    const e = this.entries.get(sql);
    if (e) {
      this.entries.delete(sql);
      this.entries.set(sql, e);
    }
    return e;
  }

  set(sql: string, entry: CheckedStatement): void {
    if (sql.length > this.maxBytes / 16) return;
    const old = this.entries.get(sql);
    if (old) {
      this.entries.delete(sql);
      this.bytes -= sql.length;
    }
    this.entries.set(sql, entry);
    this.bytes += sql.length;
    for (const [k] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= k.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
