/**
 * The catalog of named datasets, over the providers it is given, asked in order (the first that
 * has a name wins): by default the files declared in the configuration, then the uploads, then
 * any an embedding application adds, then files found in the data directory. It knows nothing of
 * who is calling.
 */
import { failedPrecondition, notFound } from '../core/errors.js';
import type { Dataset, DatasetProvider } from './dataset.js';
import type { ManagedStore, PutMode, Upload } from './managed/managed-store.js';
import { checkDatasetName } from './names.js';

export interface CatalogOptions {
  /** In order of precedence; `uploads` must be one of them. */
  readonly providers: readonly DatasetProvider[];
  /** Where DoPut writes, and what `drop` deletes. */
  readonly uploads: ManagedStore;
  readonly onWarning?: (message: string) => void;
}

export class Catalog {
  readonly uploads: ManagedStore;
  private readonly providers: readonly DatasetProvider[];
  private readonly warn: (message: string) => void;

  constructor(options: CatalogOptions) {
    if (!options.providers.includes(options.uploads)) throw new Error('the catalog\'s upload store must be one of its providers');
    this.providers = options.providers;
    this.uploads = options.uploads;
    this.warn = options.onWarning ?? (() => undefined);
  }

  async load(): Promise<void> {
    for (const p of this.providers) await p.load?.(this.warn);
  }

  /** The dataset called `name`, or undefined. */
  async find(name: string): Promise<Dataset | undefined> {
    for (const p of this.providers) {
      const hit = await p.find(name);
      if (hit) return hit;
    }
    return undefined;
  }

  async get(name: string): Promise<Dataset> {
    const ds = await this.find(name);
    if (!ds) throw notFound(`dataset "${name}" not found`);
    return ds;
  }

  async list(): Promise<Dataset[]> {
    const out = new Map<string, Dataset>();
    for (const p of [...this.providers].reverse()) for (const d of await p.list()) out.set(d.name, d);
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes an uploaded dataset; datasets of other providers are never deleted by the server. */
  async drop(name: string): Promise<void> {
    const ds = await this.find(name);
    if (!ds) throw notFound(`dataset "${name}" not found`);
    if (ds !== this.uploads.get(name)) throw failedPrecondition(`dataset "${name}" is a ${ds.kind} dataset; only uploads can be dropped (remove the file to drop it)`);
    return this.uploads.drop(name);
  }

  /** Starts an upload; a name another provider serves read-only is refused. */
  async beginUpload(name: string, mode: PutMode): Promise<Upload> {
    checkDatasetName(name);
    const existing = await this.find(name);
    if (existing && existing !== this.uploads.get(name) && !existing.writable) {
      throw failedPrecondition(`dataset "${name}" is read-only (a ${existing.kind} dataset); upload under another name`);
    }
    return this.uploads.begin(name, mode);
  }
}
