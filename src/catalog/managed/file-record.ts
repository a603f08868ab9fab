/**
 * The embedded catalog of record: each dataset's manifest file, replaced by rename at every
 * commit, for one server process owning its data directory. Being the only writer, it cleans
 * every leftover of an interrupted upload when it loads, and deletes replaced segments at once
 * (readers hold open handles on them, which keeps their bytes until they finish).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidDatasetName } from '../names.js';
import type { CatalogRecord, ChangePlan, RecordedDataset } from './catalog-record.js';
import { MANIFEST, readManifest, writeManifest, type Manifest } from './manifest.js';

export class FileCatalogRecord implements CatalogRecord {
  readonly shared = false;
  private readonly known = new Map<string, Manifest>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly tag = randomBytes(4).toString('hex');

  constructor(
    private readonly root: string,
    private readonly durable: boolean,
  ) {}

  writerTag(): string {
    return this.tag;
  }

  async loadAll(onWarning: (message: string) => void = () => undefined): Promise<RecordedDataset[]> {
    await mkdir(this.root, { recursive: true });
    this.known.clear();
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
      const live = new Set(manifest.segments.map((s) => s.file));
      for (const f of await readdir(dir)) {
        if (f !== MANIFEST && !live.has(f)) await rm(join(dir, f), { force: true });
      }
      this.known.set(entry.name, manifest);
    }
    return [...this.known].map(([name, manifest]) => ({ name, revision: 0, manifest }));
  }

  async read(name: string): Promise<RecordedDataset> {
    return { name, revision: 0, manifest: this.known.get(name) };
  }

  change(name: string, plan: (current: RecordedDataset) => Promise<ChangePlan>): Promise<RecordedDataset> {
    return this.withLock(name, async () => {
      const { manifest, retired } = await plan({ name, revision: 0, manifest: this.known.get(name) });
      const dir = join(this.root, name);
      if (manifest) {
        await writeManifest(dir, manifest, this.durable);
        this.known.set(name, manifest);
        await Promise.all(retired.map((f) => rm(join(dir, f), { force: true })));
      } else {
        this.known.delete(name);
        // The manifest goes first: a crash midway leaves a directory that loadAll() cleans up.
        await rm(join(dir, MANIFEST), { force: true });
        await rm(dir, { recursive: true, force: true });
      }
      return { name, revision: 0, manifest };
    });
  }

  watch(): void {
    // Nothing else writes this record.
  }

  async close(): Promise<void> {}

  /** Serialises changes per dataset. */
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
}
