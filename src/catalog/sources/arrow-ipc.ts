/** Arrow IPC files (`.arrow`, `.feather` v2) and streams (`.arrows`), served straight from disk. */
import { stat } from 'node:fs/promises';
import type { Schema } from 'apache-arrow';
import { invalidArgument } from '../../core/errors.js';
import { readIpcMessages } from '../../ipc/file-reader.js';
import { decodeSchema, type IpcMessage } from '../../ipc/message.js';
import type { Dataset, DatasetSource, DatasetStats, MessageOptions } from '../dataset.js';

interface Scan {
  key: string;
  schema: Schema;
  stats: DatasetStats;
}

/** A dataset backed by one IPC file; statistics come from a header-only scan, redone when the file changes. */
export class ArrowFileDataset implements Dataset {
  readonly kind = 'arrow';
  readonly writable = false;
  private scan: Promise<Scan> | undefined;

  constructor(
    readonly name: string,
    readonly path: string,
  ) {}

  private async current(): Promise<Scan> {
    const st = await stat(this.path);
    const key = `${st.size}:${st.mtimeMs}`;
    const cached = this.scan ? await this.scan.catch(() => undefined) : undefined;
    if (cached && cached.key === key) return cached;
    this.scan = this.scanFile(key);
    return this.scan;
  }

  private async scanFile(key: string): Promise<Scan> {
    let schema: Schema | undefined;
    let records = 0;
    let bytes = 0;
    for await (const m of readIpcMessages(this.path, { headersOnly: true })) {
      if (!schema) {
        schema = decodeSchema(m.header);
      }
      records += m.summary.rows;
      bytes += m.header.length + m.summary.bodyLength;
    }
    if (!schema) throw invalidArgument(`${this.path} holds no Arrow schema`);
    return { key, schema, stats: { records, bytes } };
  }

  async schema(): Promise<Schema> {
    return (await this.current()).schema;
  }

  async stats(): Promise<DatasetStats> {
    return (await this.current()).stats;
  }

  messages(options: MessageOptions = {}): AsyncIterable<IpcMessage> {
    return readIpcMessages(this.path, options);
  }
}

export const arrowSource: DatasetSource = {
  extensions: ['.arrow', '.arrows', '.feather', '.ipc'],
  async open(name: string, path: string): Promise<Dataset> {
    const ds = new ArrowFileDataset(name, path);
    await ds.schema();
    return ds;
  },
};
