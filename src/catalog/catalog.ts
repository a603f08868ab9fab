/**
 * The catalog of named datasets: declared in config, uploaded (managed) or discovered as files
 * in the data directory. Precedence on a name clash: declared, then managed, then discovered.
 */
import { readdir } from 'node:fs/promises';
import { extname, join, basename, resolve } from 'node:path';
import { failedPrecondition, notFound } from '../core/errors.js';
import type { Dataset, DatasetSource } from './dataset.js';
import { FileDataset } from './file-dataset.js';
import { ManagedStore, type PutMode, type Upload } from './managed/managed-store.js';
import { checkDatasetName, isValidDatasetName } from './names.js';

export interface DeclaredDataset {
  name: string;
  path: string;
  /** File format; taken from the extension when absent. */
  format?: string;
}

export interface CatalogOptions {
  dataDir: string;
  sources: readonly DatasetSource[];
  declared?: readonly DeclaredDataset[];
  /** fsync uploads before they become visible. */
  durableWrites?: boolean;
  onWarning?: (message: string) => void;
  /** How long a directory listing is reused before files are looked for again. */
  rescanMs?: number;
}

export class Catalog {
  readonly managed: ManagedStore;
  private readonly declared = new Map<string, FileDataset>();
  private discovered = new Map<string, FileDataset>();
  private lastScan = 0;
  private scanning: Promise<void> | undefined;
  private readonly warn: (message: string) => void;

  constructor(private readonly options: CatalogOptions) {
    this.managed = new ManagedStore(join(options.dataDir, 'datasets'), options.durableWrites ?? true);
    this.warn = options.onWarning ?? (() => undefined);
  }

  private sourceFor(path: string, format?: string): DatasetSource | undefined {
    const ext = format ? `.${format.replace(/^\./, '').toLowerCase()}` : extname(path).toLowerCase();
    return this.options.sources.find((s) => s.extensions.includes(ext));
  }

  async load(): Promise<void> {
    await this.managed.load(this.warn);
    for (const [i, d] of (this.options.declared ?? []).entries()) {
      // Errors name the setting, as configuration errors do: datasets[i].path.
      const setting = `datasets[${i}] (${JSON.stringify(d.name).slice(0, 80)})`;
      checkDatasetName(d.name);
      const source = this.sourceFor(d.path, d.format);
      if (!source) throw failedPrecondition(`${setting}.format: no reader for ${d.format ?? (extname(d.path) || 'extension-less')} files`);
      const path = resolve(d.path);
      let dataset: Dataset;
      try {
        dataset = await source.open(d.name, path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw failedPrecondition(`${setting}.path: cannot open ${path}: ${code ?? (err as Error).message}`);
      }
      this.declared.set(d.name, new FileDataset(dataset, path));
    }
    await this.rescan(true);
  }

  /** Looks for data files dropped into the data directory since the last look. */
  private async rescan(force = false): Promise<void> {
    const maxAge = this.options.rescanMs ?? 2000;
    if (!force && Date.now() - this.lastScan < maxAge) return;
    if (this.scanning) return this.scanning;
    this.scanning = (async () => {
      const next = new Map<string, FileDataset>();
      let entries: string[] = [];
      try {
        entries = (await readdir(this.options.dataDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      for (const file of entries.sort()) {
        const source = this.sourceFor(file);
        if (!source) continue;
        const name = basename(file, extname(file));
        if (!isValidDatasetName(name) || next.has(name)) continue;
        const known = this.discovered.get(name);
        if (known) {
          next.set(name, known);
          continue;
        }
        try {
          const path = join(this.options.dataDir, file);
          next.set(name, new FileDataset(await source.open(name, path), path));
        } catch (err) {
          this.warn(`skipping ${file}: ${(err as Error).message}`);
        }
      }
      this.discovered = next;
      this.lastScan = Date.now();
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  /** The dataset called `name`, or undefined. */
  async find(name: string): Promise<Dataset | undefined> {
    const hit = this.declared.get(name) ?? this.managed.get(name);
    if (hit) return hit;
    const file = this.discovered.get(name);
    if (file) {
      if (await file.exists()) return file;
      this.discovered.delete(name);
    }
    // A miss may be a file dropped in a moment ago: look again, at most every 100 ms.
    if (Date.now() - this.lastScan > 100) await this.rescan(true);
    return this.discovered.get(name);
  }

  async get(name: string): Promise<Dataset> {
    const ds = await this.find(name);
    if (!ds) throw notFound(`dataset "${name}" not found`);
    return ds;
  }

  async list(): Promise<Dataset[]> {
    await this.rescan();
    const out = new Map<string, Dataset>();
    const managed = new Map<string, Dataset>(this.managed.list().map((d) => [d.name, d]));
    for (const m of [this.discovered as Map<string, Dataset>, managed, this.declared]) {
      for (const [k, v] of m) out.set(k, v);
    }
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes a managed dataset; file-backed datasets are never deleted by the server. */
  async drop(name: string): Promise<void> {
    if (this.managed.get(name)) return this.managed.drop(name);
    const ds = await this.find(name);
    if (!ds) throw notFound(`dataset "${name}" not found`);
    throw failedPrecondition(`dataset "${name}" is a ${ds.kind} file; remove the file to drop it`);
  }

  /** Starts an upload into a managed dataset; read-only sources refuse it. */
  async beginUpload(name: string, mode: PutMode): Promise<Upload> {
    checkDatasetName(name);
    const existing = this.declared.get(name) ?? (this.managed.get(name) ? undefined : await this.find(name));
    if (existing && !existing.writable) {
      throw failedPrecondition(`dataset "${name}" is read-only (a ${existing.kind} file); upload under another name`);
    }
    return this.managed.begin(name, mode);
  }
}
