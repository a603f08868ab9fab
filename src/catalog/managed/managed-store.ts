/**
 * Managed datasets live under `<data-dir>/datasets/<name>/`: a manifest and segment files.
 * An upload writes a new segment to a temporary file and commits by renaming it into place
 * and then replacing the manifest, so a failed or abandoned upload never changes what readers
 * see, and a crash leaves at worst an unreferenced file that the next start removes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Message, Schema } from 'apache-arrow';
import { alreadyExists, invalidArgument } from '../../core/errors.js';
import { BatchValidator } from '../../ipc/batch-validation.js';
import { decodeSchema, EOS, framedHeader, summarize, type IpcMessage, type MessageKind } from '../../ipc/message.js';
import { checkDatasetName, isValidDatasetName } from '../names.js';
import { describeSchema, sameColumns } from '../schema-equality.js';
import { ManagedDataset } from './managed-dataset.js';
import { MANIFEST, readManifest, writeManifest, type Manifest, type Segment } from './manifest.js';

const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

import type { PutMode } from '../put-mode.js';

export type { PutMode };

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

export class ManagedStore {
  private readonly datasets = new Map<string, ManagedDataset>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly root: string,
    readonly durable = true,
  ) {}

  /** Loads every managed dataset and removes leftovers of interrupted uploads. */
  async load(onWarning: (message: string) => void = () => undefined): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.upload')) {
        await rm(join(this.root, entry.name), { force: true });
        continue;
      }
      if (!entry.isDirectory() || !isValidDatasetName(entry.name)) continue;
      const dir = join(this.root, entry.name);
      let manifest: Manifest;
      try {
        manifest = await readManifest(dir);
      } catch (err) {
        // A directory without a manifest is a create that never committed.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') await rm(dir, { recursive: true, force: true });
        else onWarning(`skipping dataset ${entry.name}: ${(err as Error).message}`);
        continue;
      }
      await this.collectGarbage(dir, manifest);
      this.datasets.set(entry.name, new ManagedDataset(entry.name, dir, manifest));
    }
  }

  private async collectGarbage(dir: string, manifest: Manifest): Promise<void> {
    const live = new Set(manifest.segments.map((s) => s.file));
    for (const f of await readdir(dir)) {
      if (f === MANIFEST || live.has(f)) continue;
      await rm(join(dir, f), { force: true });
    }
  }

  get(name: string): ManagedDataset | undefined {
    return this.datasets.get(name);
  }

  list(): ManagedDataset[] {
    return [...this.datasets.values()];
  }

  async drop(name: string): Promise<void> {
    await this.withLock(name, async () => {
      const ds = this.datasets.get(name);
      if (!ds) return;
      this.datasets.delete(name);
      // Remove the manifest first: a crash midway leaves a directory that load() cleans up.
      await rm(join(ds.dir, MANIFEST), { force: true });
      await rm(ds.dir, { recursive: true, force: true });
    });
  }

  /** Starts an upload; nothing is visible until `commit` resolves. */
  begin(name: string, mode: PutMode): Upload {
    checkDatasetName(name);
    if (mode === 'create' && this.datasets.has(name)) {
      throw alreadyExists(`dataset "${name}" already exists; upload with mode "append" or "replace" to change it`);
    }
    return new Upload(this, name, mode);
  }

  /** @internal Serialises commits per dataset. */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    }
  }

  /** @internal */
  async commit(upload: Upload, segment: Segment, tmpPath: string, schemaHeader: Uint8Array, schema: Schema): Promise<CommitResult> {
    return this.withLock(upload.name, async () => {
      const existing = this.datasets.get(upload.name);
      if (upload.mode === 'create' && existing) {
        throw alreadyExists(`dataset "${upload.name}" was created by another upload meanwhile`);
      }
      if (upload.mode === 'append' && existing && !sameColumns(await existing.schema(), schema)) {
        throw invalidArgument(
          `cannot append to "${upload.name}": its schema is (${describeSchema(await existing.schema())}) but the upload has (${describeSchema(schema)})`,
        );
      }
      const dir = join(this.root, upload.name);
      await mkdir(dir, { recursive: true });
      await rename(tmpPath, join(dir, segment.file));
      const keep = upload.mode === 'append' && existing ? existing.manifest.segments : [];
      const manifest: Manifest = {
        version: 1,
        schema: existing && upload.mode === 'append' ? existing.manifest.schema : Buffer.from(schemaHeader).toString('base64'),
        segments: [...keep, segment],
        updatedAt: new Date().toISOString(),
      };
      await writeManifest(dir, manifest, this.durable);
      const next = new ManagedDataset(upload.name, dir, manifest);
      this.datasets.set(upload.name, next);
      if (existing && upload.mode === 'replace') {
        // Readers hold open handles on the old segments, so unlinking them is safe.
        await this.collectGarbage(dir, manifest);
      }
      const totalRows = (await next.stats()).records;
      return { dataset: upload.name, mode: upload.mode, rows: segment.rows, bytes: segment.bytes, totalRows };
    });
  }

  /** Temporary files go in the store root so the final rename stays on one filesystem. */
  tmpPath(name: string): string {
    return join(this.root, `.${name}.${randomBytes(8).toString('hex')}.upload`);
  }
}

export class Upload {
  private fh: FileHandle | undefined;
  private readonly path: string;
  private schema: Schema | undefined;
  private schemaHeader: Uint8Array | undefined;
  private validator: BatchValidator | undefined;
  private rows = 0;
  private bytes = 0;
  private closed = false;
  private unsyncedBytes = 0;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly store: ManagedStore,
    readonly name: string,
    readonly mode: PutMode,
  ) {
    this.path = store.tmpPath(name);
  }

  get rowsWritten(): number {
    return this.rows;
  }

  get bytesWritten(): number {
    return this.bytes;
  }

  async write(message: UploadMessage): Promise<void> {
    if (this.closed) throw invalidArgument('upload already finished');
    if (!this.schema) {
      if (message.kind !== 'schema') throw invalidArgument('the first FlightData of an upload must carry the Arrow schema');
      this.schema = decodeSchema(message.header);
      this.schemaHeader = message.header;
      this.validator = new BatchValidator(this.schema);
      const existing = this.store.get(this.name);
      if (this.mode === 'append' && existing && !sameColumns(await existing.schema(), this.schema)) {
        throw invalidArgument(
          `cannot append to "${this.name}": its schema is (${describeSchema(await existing.schema())}) but the upload has (${describeSchema(this.schema)})`,
        );
      }
      await mkdir(this.store.root, { recursive: true });
      this.fh = await open(this.path, 'wx');
    } else if (message.kind === 'schema') {
      throw invalidArgument('an upload carries exactly one schema message, at the start');
    } else {
      // Other users' readers trust these bytes: a batch is checked whole before any of it is written.
      const decoded = message.decoded ?? summarize(message.header).decoded;
      if (message.kind === 'dictionary') this.validator!.dictionary(decoded, message.body);
      else this.validator!.recordBatch(decoded, message.body);
    }
    const head = framedHeader(message.header);
    if (message.body.length > 0) await this.fh!.writev([head, message.body]);
    else await this.fh!.write(head);
    this.rows += message.rows;
    this.bytes += message.header.length + message.body.length;
    this.unsyncedBytes += head.length + message.body.length;
    // Flush to disk in the background while the upload goes on, so the final fsync at commit
    // has little left to do (measured: commit-time fsync alone halved upload throughput).
    if (this.store.durable && this.unsyncedBytes >= SYNC_EVERY_BYTES && !this.syncing) {
      this.unsyncedBytes = 0;
      const fh = this.fh!;
      this.syncing = fh.datasync().finally(() => (this.syncing = undefined));
      this.syncing.catch(() => undefined);
    }
  }

  async commit(): Promise<CommitResult> {
    if (!this.schema || !this.fh || !this.schemaHeader) throw invalidArgument('the upload carried no Arrow schema');
    this.closed = true;
    const fh = this.fh;
    try {
      await fh.write(EOS);
      await this.syncing?.catch(() => undefined);
      if (this.store.durable) await fh.sync();
    } finally {
      await fh.close();
    }
    const segment: Segment = { file: `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}.arrows`, rows: this.rows, bytes: this.bytes };
    try {
      return await this.store.commit(this, segment, this.path, this.schemaHeader, this.schema);
    } catch (err) {
      await rm(this.path, { force: true });
      throw err;
    }
  }

  /** Drops everything written; the dataset stays as it was. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.syncing?.catch(() => undefined);
    try {
      await this.fh?.close();
    } finally {
      await rm(this.path, { force: true });
    }
  }
}
