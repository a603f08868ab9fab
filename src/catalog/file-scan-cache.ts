/**
 * What a source learns by scanning its file (schema, row counts), kept until the file changes
 * (size or modification time) and redone after a failed scan.
 */
import { stat } from 'node:fs/promises';

export class FileScanCache<T> {
  private entry: { key: string; value: Promise<T> } | undefined;
  /** A stat in flight: callers arriving meanwhile (a FlightInfo asks schema and counts at once) share it. */
  private statting: Promise<{ size: number; mtimeMs: number }> | undefined;

  constructor(
    private readonly path: string,
    private readonly scan: () => Promise<T>,
  ) {}

  async get(): Promise<T> {
    // Shared only while in flight: a call that starts after it ended stats the file anew.
    this.statting ??= stat(this.path).finally(() => (this.statting = undefined));
    const st = await this.statting;
    const key = `${st.size}:${st.mtimeMs}`;
    if (this.entry?.key === key) {
      try {
        return await this.entry.value;
      } catch {
        // scan again below
      }
    }
    const value = this.scan();
    this.entry = { key, value };
    return value;
  }
}
