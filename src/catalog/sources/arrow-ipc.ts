/** Arrow IPC files (`.arrow`, `.feather` v2) and streams (`.arrows`), served straight from disk. */
import type { Schema } from 'apache-arrow';
import { invalidArgument } from '../../core/errors.js';
import { readIpcMessages } from '../../ipc/file-reader.js';
import { decodeSchema, type IpcMessage } from '../../ipc/message.js';
import type { Dataset, DatasetSource, DatasetStats, FileLayout, MessageOptions } from '../dataset.js';
import { indexIpcFiles } from '../file-layout.js';
import { FileScanCache } from '../file-scan-cache.js';

interface Scan {
  schema: Schema;
  stats: DatasetStats;
}

/** A dataset backed by one IPC file; statistics come from a header-only scan, redone when the file changes. */
export class ArrowFileDataset implements Dataset {
  readonly kind = 'arrow';
  readonly writable = false;
  private readonly scans: FileScanCache<Scan>;
  private readonly layouts: FileScanCache<FileLayout | undefined>;

  constructor(
    readonly name: string,
    readonly path: string,
  ) {
    this.scans = new FileScanCache(path, () => this.scanFile());
    this.layouts = new FileScanCache(path, async () => indexIpcFiles(await this.schema(), [this.path]));
  }

  /** Indexed (and validated) once per version of the file: a changed size or time indexes it again. */
  fileLayout(): Promise<FileLayout | undefined> {
    return this.layouts.get();
  }

  private current(): Promise<Scan> {
    return this.scans.get();
  }

  private async scanFile(): Promise<Scan> {
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
    return { schema, stats: { records, bytes } };
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
