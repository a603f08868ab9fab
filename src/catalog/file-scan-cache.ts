/**
 * What a source learns by scanning its file (schema, row counts), kept until the file changes
 * (size or modification time) and redone after a failed scan.
 */
import { stat } from 'node:fs/promises';

export class FileScanCache<T> {
  private entry: { key: string; value: Promise<T> } | undefined;

  constructor(
    private readonly path: string,
    private readonly scan: () => Promise<T>,
  ) {}

  async get(): Promise<T> {
    const st = await stat(this.path);
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
