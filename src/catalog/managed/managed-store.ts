/**
 * Managed datasets live under `<data-dir>/datasets/<name>/`: a manifest and segment files.
 * An upload writes a new segment to a temporary file and commits by renaming it into place
 * and then replacing the manifest, so a failed or abandoned upload never changes what readers
 * see, and a crash leaves at worst an unreferenced file that the next start removes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { alreadyExists } from '../../core/errors.js';
export type { CommitResult, Upload, UploadMessage } from './upload.js';
import type { DatasetProvider } from '../dataset.js';
import { checkAppendSchema, Upload, type CommitResult, type FinishedUpload, type UploadTarget } from './upload.js';
import { checkDatasetName, isValidDatasetName } from '../names.js';
import { ManagedDataset } from './managed-dataset.js';
import { MANIFEST, readManifest, writeManifest, type Manifest } from './manifest.js';

import type { PutMode } from '../put-mode.js';

export type { PutMode };



export class ManagedStore implements DatasetProvider, UploadTarget {
  readonly label = 'uploads';
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

  async find(name: string): Promise<ManagedDataset | undefined> {
    return this.datasets.get(name);
  }

  async list(): Promise<ManagedDataset[]> {
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
    return new Upload(this, name, mode, this.durable);
  }

  /** Serialises commits per dataset. */
  private async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
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

  /** Makes a finished upload the dataset's new version (the one atomic step: the manifest's rename). */
  async commit(upload: FinishedUpload): Promise<CommitResult> {
    const { segment, tmpPath, schemaHeader, schema } = upload;
    return this.withLock(upload.name, async () => {
      const existing = this.datasets.get(upload.name);
      if (upload.mode === 'create' && existing) {
        throw alreadyExists(`dataset "${upload.name}" was created by another upload meanwhile`);
      }
      if (upload.mode === 'append') await checkAppendSchema(upload.name, existing, schema);
      const dir = join(this.root, upload.name);
      if (!existing) await mkdir(dir, { recursive: true });
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
        // Readers hold open handles on the old segments, so unlinking them is safe. The old
        // manifest names them: no directory listing (leftovers of a crash are load()'s).
        const live = new Set(manifest.segments.map((s) => s.file));
        await Promise.all(existing.manifest.segments.filter((s) => !live.has(s.file)).map((s) => rm(join(dir, s.file), { force: true })));
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

