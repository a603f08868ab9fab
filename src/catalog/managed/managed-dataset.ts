/** A dataset created by DoPut: one or more IPC stream segments listed by a manifest. */
import { fileBodies } from '../../ipc/body-cache.js';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Schema } from 'apache-arrow';
import { readFromHandle } from '../../ipc/file-reader.js';
import { decodeSchema, type IpcMessage } from '../../ipc/message.js';
import type { Dataset, DatasetStats, FileLayout, MessageOptions, SegmentRange } from '../dataset.js';
import { failedPrecondition } from '../../core/errors.js';
import { indexIpcFiles } from '../file-layout.js';
import type { Manifest, Segment } from './manifest.js';

export class ManagedDataset implements Dataset {
  readonly kind = 'managed';
  readonly writable = true;
  private readonly decodedSchema: Schema;
  readonly schemaHeader: Uint8Array;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly manifest: Manifest,
  ) {
    this.schemaHeader = Buffer.from(manifest.schema, 'base64');
    this.decodedSchema = decodeSchema(this.schemaHeader);
  }

  async schema(): Promise<Schema> {
    return this.decodedSchema;
  }

  async stats(): Promise<DatasetStats> {
    let records = 0;
    let bytes = this.schemaHeader.length;
    for (const s of this.manifest.segments) {
      records += s.rows;
      bytes += s.bytes;
    }
    return { records, bytes };
  }

  messages(options: MessageOptions = {}): AsyncIterable<IpcMessage> {
    return this.read(options);
  }

  private layout: Promise<FileLayout | undefined> | undefined;

  /** A version's segments never change, so they are indexed once per version. */
  fileLayout(): Promise<FileLayout | undefined> {
    this.layout ??= indexIpcFiles(this.decodedSchema, this.manifest.segments.map((s) => join(this.dir, s.file)));
    this.layout.catch(() => (this.layout = undefined));
    return this.layout;
  }

  /** The segments, in order, with the bytes each holds (for splitting a read into ranges). */
  get segments(): readonly Segment[] {
    return this.manifest.segments;
  }

  /** The segments of `range`, if this version has them. */
  private segmentsOf(range: SegmentRange | undefined): readonly Segment[] {
    if (!range) return this.manifest.segments;
    const picked = this.manifest.segments.slice(range.from, range.to);
    if (range.from < 0 || range.to <= range.from || picked.length !== range.to - range.from || picked[0]!.file !== range.first || picked[picked.length - 1]!.file !== range.last) {
      throw failedPrecondition(`dataset "${this.name}" was replaced since this ticket was issued; call GetFlightInfo again`);
    }
    return picked;
  }

  private async *read(options: MessageOptions): AsyncGenerator<IpcMessage> {
    const segments = this.segmentsOf(options.segments);
    // Open every segment first: a concurrent replace may unlink them, and an open handle keeps
    // this reader on the version it started with.
    const handles: { fh: FileHandle; size: number; file: string }[] = [];
    try {
      for (const s of segments) {
        const fh = await open(join(this.dir, s.file), 'r');
        handles.push({ fh, size: (await fh.stat()).size, file: s.file });
      }
      yield { header: this.schemaHeader, body: new Uint8Array(0) };
      for (const h of handles) {
        // Segment files never change: their path and size are a version.
        const key = options.cached && fileBodies.enabled ? `${join(this.dir, h.file)}\0${h.size}` : undefined;
        for await (const m of readFromHandle(h.fh, h.size, options, `${this.name}/${h.file}`, key)) {
          if (m.summary.kind !== 'schema') yield m;
        }
      }
    } finally {
      await Promise.all(handles.map((h) => h.fh.close()));
    }
  }
}
