/**
 * Managed datasets live under `<data-dir>/datasets/<name>/` as segment files, listed by the
 * dataset's manifest in the catalog of record (the manifest file beside them, or PostgreSQL when
 * replicas share the directory). An upload writes a new segment to a temporary file and commits by
 * renaming it into place and then recording the new manifest, so a failed or abandoned upload
 * never changes what readers see, and a crash leaves at worst an unreferenced file that is
 * cleaned up later.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { alreadyExists } from '../../core/errors.js';
export type { CommitResult, Upload, UploadMessage } from './upload.js';
import type { DatasetProvider } from '../dataset.js';
import { checkAppendSchema, Upload, type CommitResult, type FinishedUpload, type UploadTarget } from './upload.js';
import { checkDatasetName } from '../names.js';
import { ManagedDataset } from './managed-dataset.js';
import type { Manifest } from './manifest.js';
import type { CatalogRecord, RecordedDataset } from './catalog-record.js';
import { FileCatalogRecord } from './file-record.js';

import type { PutMode } from '../put-mode.js';

export type { PutMode };

interface Known {
  readonly dataset: ManagedDataset;
  readonly revision: number;
}

export class ManagedStore implements DatasetProvider, UploadTarget {
  readonly label = 'uploads';
  private readonly datasets = new Map<string, Known>();
  /** Highest revision seen per dropped name, so that a late read of an older version does not bring it back. */
  private readonly dropped = new Map<string, number>();
  readonly record: CatalogRecord;

  constructor(
    readonly root: string,
    readonly durable = true,
    record?: CatalogRecord,
  ) {
    this.record = record ?? new FileCatalogRecord(root, durable);
  }

  /** Loads every managed dataset; a shared record also tells this store of other processes' commits from now on. */
  async load(onWarning: (message: string) => void = () => undefined): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const all = await this.record.loadAll(onWarning);
    const names = new Set(all.map((d) => d.name));
    for (const d of all) this.apply(d);
    // A shared record reports drops as rows without a manifest; absence only means something to the embedded one.
    if (!this.record.shared) for (const name of [...this.datasets.keys()]) if (!names.has(name)) this.datasets.delete(name);
    if (!this.watching) {
      this.watching = true;
      this.record.watch((name) => void (name === undefined ? this.load(onWarning) : this.refresh(name)).catch(() => undefined));
    }
  }

  private watching = false;

  /** Reads one dataset again from the record (another process changed it). */
  async refresh(name: string): Promise<void> {
    this.apply(await this.record.read(name));
  }

  /** Takes a version of a dataset from the record, unless a newer one is known already. */
  private apply(d: RecordedDataset): void {
    const known = this.datasets.get(d.name);
    if (this.record.shared && ((known && known.revision >= d.revision) || (this.dropped.get(d.name) ?? -1) >= d.revision)) return;
    if (d.manifest) {
      this.datasets.set(d.name, { dataset: new ManagedDataset(d.name, join(this.root, d.name), d.manifest), revision: d.revision });
      this.dropped.delete(d.name);
    } else {
      this.datasets.delete(d.name);
      if (this.record.shared) this.dropped.set(d.name, d.revision);
    }
  }

  get(name: string): ManagedDataset | undefined {
    return this.datasets.get(name)?.dataset;
  }

  async find(name: string): Promise<ManagedDataset | undefined> {
    return this.datasets.get(name)?.dataset;
  }

  async list(): Promise<ManagedDataset[]> {
    return [...this.datasets.values()].map((k) => k.dataset);
  }

  async drop(name: string): Promise<void> {
    this.apply(
      await this.record.change(name, async (current) => ({ manifest: undefined, retired: current.manifest?.segments.map((s) => s.file) ?? [] })),
    );
  }

  /** Starts an upload; nothing is visible until `commit` resolves. */
  begin(name: string, mode: PutMode): Upload {
    checkDatasetName(name);
    if (mode === 'create' && this.datasets.has(name)) {
      throw alreadyExists(`dataset "${name}" already exists; upload with mode "append" or "replace" to change it`);
    }
    return new Upload(this, name, mode, this.durable);
  }

  /** Makes a finished upload the dataset's new version (the one atomic step: the record's change). */
  async commit(upload: FinishedUpload): Promise<CommitResult> {
    const { segment, tmpPath, schemaHeader, schema } = upload;
    const dir = join(this.root, upload.name);
    const recorded = await this.record.change(
      upload.name,
      async (current) => {
        const existing = current.manifest && new ManagedDataset(upload.name, dir, current.manifest);
        if (upload.mode === 'create' && existing) {
          throw alreadyExists(`dataset "${upload.name}" was created by another upload meanwhile`);
        }
        if (upload.mode === 'append') await checkAppendSchema(upload.name, existing, schema);
        if (!existing) await mkdir(dir, { recursive: true });
        await rename(tmpPath, join(dir, segment.file));
        // The record may be elsewhere (PostgreSQL): the segment must be on disk under its name before the commit names it.
        if (this.record.shared && this.durable) {
          await syncDirectory(dir).catch(async (err: unknown) => {
            await rm(join(dir, segment.file), { force: true });
            throw err;
          });
        }
        const keep = upload.mode === 'append' && existing ? existing.manifest.segments : [];
        const live = new Set(keep.map((s) => s.file));
        const manifest: Manifest = {
          version: 1,
          schema: existing && upload.mode === 'append' ? existing.manifest.schema : Buffer.from(schemaHeader).toString('base64'),
          segments: [...keep, segment],
          updatedAt: new Date().toISOString(),
        };
        return {
          manifest,
          retired: (current.manifest?.segments ?? []).filter((s) => !live.has(s.file)).map((s) => s.file),
          undo: () => rm(join(dir, segment.file), { force: true }),
        };
      },
      upload.writer,
    );
    this.apply(recorded);
    const next = this.get(upload.name);
    const totalRows = next ? (await next.stats()).records : segment.rows;
    return { dataset: upload.name, mode: upload.mode, rows: segment.rows, bytes: segment.bytes, totalRows };
  }

  /** The tag this process names its new files with now. */
  writerTag(): string {
    return this.record.writerTag();
  }

  /** Temporary files go in the store root so the final rename stays on one filesystem. */
  tmpPath(name: string, writer: string): string {
    return join(this.root, `.${name}.${writer}.${randomBytes(8).toString('hex')}.upload`);
  }

  /** A new segment's file name: unique, and tagged with its writer. */
  segmentFile(writer: string): string {
    return `${writer}.${Date.now().toString(36)}${randomBytes(6).toString('hex')}.arrows`;
  }

  async close(): Promise<void> {
    await this.record.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
