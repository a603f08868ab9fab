/**
 * One upload into a managed dataset: batches are validated and written to a temporary segment
 * file as they arrive (fsynced in the background when durable), and nothing changes for readers
 * until the store commits it. A failed or abandoned upload leaves only its temporary file, which
 * is removed.
 */
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Message, Schema } from 'apache-arrow';
import { invalidArgument } from '../../core/errors.js';
import { BatchValidator } from '../../ipc/batch-validation.js';
import { decodeSchema, EOS, framedHeader, summarize, type IpcMessage, type MessageKind } from '../../ipc/message.js';
import type { PutMode } from '../put-mode.js';
import type { ManagedDataset } from './managed-dataset.js';
import { describeSchema, sameColumns } from '../schema-equality.js';
import type { Segment } from './manifest.js';

const SYNC_EVERY_BYTES = 32 * 1024 * 1024;
/** Bytes queued for an upload's file but not yet taken by it, before the upload waits (reading on meanwhile). */
const MAX_WRITING_BYTES = 64 * 1024 * 1024;
/** The same over all uploads of the process: past it, each upload waits for its own queue to drain. */
const MAX_WRITING_BYTES_IN_ALL = 256 * 1024 * 1024;
let writingInAll = 0;

export interface UploadMessage extends IpcMessage {
  readonly kind: MessageKind;
  readonly rows: number;
  /** The header as already decoded by whoever read the message; decoded here when absent. */
  readonly decoded?: Message;
}

export interface CommitResult {
  readonly dataset: string;
  readonly mode: PutMode;
  readonly rows: number;
  readonly bytes: number;
  readonly totalRows: number;
}

/** Refuses an append whose schema is not the dataset's: checked as the upload starts and again, under the lock, at commit. */
export async function checkAppendSchema(name: string, existing: ManagedDataset | undefined, schema: Schema): Promise<void> {
  if (existing && !sameColumns(await existing.schema(), schema)) {
    throw invalidArgument(`cannot append to "${name}": its schema is (${describeSchema(await existing.schema())}) but the upload has (${describeSchema(schema)})`);
  }
}

/** What a committed upload hands the store: its finished segment file and its schema. */
export interface FinishedUpload {
  readonly name: string;
  readonly mode: PutMode;
  readonly segment: Segment;
  readonly tmpPath: string;
  /** The tag the upload's files are named with. */
  readonly writer: string;
  readonly schemaHeader: Uint8Array;
  readonly schema: Schema;
}

/** What an upload needs of the store it goes into. */
export interface UploadTarget {
  /** The dataset as it is now, if it exists (for the early append check). */
  get(name: string): ManagedDataset | undefined;
  /** The tag for the names of the files an upload starting now writes. */
  writerTag(): string;
  /** Where the segment is written while the upload runs (on the store's filesystem, so the commit is a rename). */
  tmpPath(name: string, writer: string): string;
  /** The name the segment gets in the dataset's directory. */
  segmentFile(writer: string): string;
  commit(upload: FinishedUpload): Promise<CommitResult>;
}

export class Upload {
  private fh: FileHandle | undefined;
  private readonly path: string;
  private readonly writer: string;
  private schema: Schema | undefined;
  private schemaHeader: Uint8Array | undefined;
  private validator: BatchValidator | undefined;
  private rows = 0;
  private bytes = 0;
  private closed = false;
  private unsyncedBytes = 0;
  private syncing: Promise<void> | undefined;
  /**
   * File writes run behind the reading: buffers wait in `queued` and one drain at a time writes
   * all that waits with a single writev (a small upload's schema, batch and end-of-stream marker
   * go in one call).
   */
  private queued: { parts: Uint8Array[]; done: (() => void)[] } = { parts: [], done: [] };
  private draining: Promise<void> | undefined;
  private writingBytes = 0;
  private writeError: unknown;

  constructor(
    private readonly store: UploadTarget,
    readonly name: string,
    readonly mode: PutMode,
    private readonly durable: boolean,
  ) {
    this.writer = store.writerTag();
    this.path = store.tmpPath(name, this.writer);
  }

  get rowsWritten(): number {
    return this.rows;
  }

  get bytesWritten(): number {
    return this.bytes;
  }

  /**
   * Validates `message` and queues it for the file. It returns before the bytes are written
   * (unless too many are queued); `written` is called once they are, when the message's buffers
   * may be reused.
   */
  async write(message: UploadMessage, written?: () => void): Promise<void> {
    if (this.closed) throw invalidArgument('upload already finished');
    if (this.writeError) throw this.writeError;
    if (!this.schema) {
      if (message.kind !== 'schema') throw invalidArgument('the first FlightData of an upload must carry the Arrow schema');
      this.schema = decodeSchema(message.header);
      this.schemaHeader = message.header;
      this.validator = new BatchValidator(this.schema);
      // Early, so a wrong schema is refused before the data is sent; commit checks again under the lock.
      if (this.mode === 'append') await checkAppendSchema(this.name, this.store.get(this.name), this.schema);
      this.fh = await open(this.path, 'wx').catch(async (err: NodeJS.ErrnoException) => {
        // The store's directory went away under it: made again, as load() makes it.
        if (err.code !== 'ENOENT') throw err;
        await mkdir(dirname(this.path), { recursive: true });
        return open(this.path, 'wx');
      });
    } else if (message.kind === 'schema') {
      throw invalidArgument('an upload carries exactly one schema message, at the start');
    } else {
      // Other users' readers trust these bytes: a batch is checked whole before any of it is written.
      const decoded = message.decoded ?? summarize(message.header).decoded;
      if (message.kind === 'dictionary') this.validator!.dictionary(decoded, message.body);
      else this.validator!.recordBatch(decoded, message.body);
    }
    const head = framedHeader(message.header);
    const size = head.length + message.body.length;
    this.rows += message.rows;
    this.bytes += message.header.length + message.body.length;
    this.enqueue(message.body.length > 0 ? [head, message.body] : [head], size, written);
    if (this.writingBytes > MAX_WRITING_BYTES || writingInAll > MAX_WRITING_BYTES_IN_ALL) await this.drained();
    if (this.writeError) throw this.writeError;
  }

  private enqueue(parts: Uint8Array[], size: number, written?: () => void): void {
    this.queued.parts.push(...parts);
    if (written) this.queued.done.push(written);
    this.writingBytes += size;
    writingInAll += size;
    this.draining ??= this.drain();
  }

  /** Writes what is queued, batch after batch, until nothing is. */
  private async drain(): Promise<void> {
    const fh = this.fh!;
    while (this.queued.parts.length) {
      const { parts, done } = this.queued;
      this.queued = { parts: [], done: [] };
      let size = 0;
      for (const p of parts) size += p.length;
      try {
        if (!this.writeError) {
          await fh.writev(parts);
          this.afterWrite(fh, size);
        }
      } catch (err) {
        this.writeError ??= err;
      } finally {
        this.writingBytes -= size;
        writingInAll -= size;
        for (const d of done) d();
      }
    }
    this.draining = undefined;
  }

  /** Resolves once everything queued so far is written (or failed). */
  private async drained(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Flushes to disk in the background while the upload goes on, so the fsync at commit has little left to do. */
  private afterWrite(fh: FileHandle, size: number): void {
    this.unsyncedBytes += size;
    // Measured: commit-time fsync alone halved upload throughput.
    if (this.durable && this.unsyncedBytes >= SYNC_EVERY_BYTES && !this.syncing) {
      this.unsyncedBytes = 0;
      this.syncing = fh.datasync().finally(() => (this.syncing = undefined));
      this.syncing.catch(() => undefined);
    }
  }

  async commit(): Promise<CommitResult> {
    if (!this.schema || !this.fh || !this.schemaHeader) throw invalidArgument('the upload carried no Arrow schema');
    this.closed = true;
    const fh = this.fh;
    try {
      this.enqueue([EOS], EOS.length);
      await this.drained();
      if (this.writeError) throw this.writeError;
      await this.syncing?.catch(() => undefined);
      if (this.durable) await fh.sync();
    } catch (err) {
      // The upload is over (a later abort does nothing): what it wrote goes now.
      await fh.close().catch(() => undefined);
      await rm(this.path, { force: true });
      throw err;
    }
    await fh.close();
    const segment: Segment = { file: this.store.segmentFile(this.writer), rows: this.rows, bytes: this.bytes };
    try {
      return await this.store.commit({ name: this.name, mode: this.mode, segment, tmpPath: this.path, writer: this.writer, schemaHeader: this.schemaHeader, schema: this.schema });
    } catch (err) {
      await rm(this.path, { force: true });
      throw err;
    }
  }

  /** Drops everything written; the dataset stays as it was. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drained();
    await this.syncing?.catch(() => undefined);
    try {
      await this.fh?.close();
    } finally {
      await rm(this.path, { force: true });
    }
  }
}
