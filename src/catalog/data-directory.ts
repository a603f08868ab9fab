/**
 * Data files dropped into the data directory: each readable file is a dataset named after it.
 * The directory is looked at again when asked for a name it does not know (at most every 100 ms)
 * and when listed (at most every `rescanMs`); a file that vanished is forgotten.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Dataset, DatasetProvider, DatasetSource } from './dataset.js';
import { FileDataset } from './file-dataset.js';
import { sourceFor } from './file-sources.js';
import { isValidDatasetName } from './names.js';

export class DataDirectory implements DatasetProvider {
  readonly label = 'the data directory';
  private discovered = new Map<string, FileDataset>();
  private lastScan = 0;
  private scanning: Promise<void> | undefined;
  private warn: (message: string) => void = () => undefined;

  constructor(
    private readonly dir: string,
    private readonly sources: readonly DatasetSource[],
    private readonly rescanMs = 1000,
  ) {}

  async load(onWarning: (message: string) => void): Promise<void> {
    this.warn = onWarning;
    await this.rescan(true);
  }

  private async rescan(force = false): Promise<void> {
    if (!force && Date.now() - this.lastScan < this.rescanMs) return;
    if (this.scanning) return this.scanning;
    this.scanning = (async () => {
      const next = new Map<string, FileDataset>();
      let entries: string[] = [];
      try {
        entries = (await readdir(this.dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      for (const file of entries.sort()) {
        const source = sourceFor(this.sources, file);
        if (!source) continue;
        const name = basename(file, extname(file));
        if (!isValidDatasetName(name) || next.has(name)) continue;
        const known = this.discovered.get(name);
        if (known) {
          next.set(name, known);
          continue;
        }
        try {
          const path = join(this.dir, file);
          next.set(name, new FileDataset(await source.open(name, path), path, (gone) => this.forget(name, gone)));
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

  async list(): Promise<readonly Dataset[]> {
    await this.rescan();
    return [...this.discovered.values()];
  }

  /** A read found the file gone: the next find looks at the directory again (another file may have the name now). */
  private forget(name: string, gone: FileDataset): void {
    if (this.discovered.get(name) === gone) this.discovered.delete(name);
  }

  async find(name: string): Promise<Dataset | undefined> {
    // Known files are not looked at here: every read of one stats it anyway (and a read that finds
    // it gone answers NOT_FOUND and has it forgotten), so a lookup costs no file system round trip.
    const file = this.discovered.get(name);
    if (file) return file;
    // A miss may be a file dropped in a moment ago: look again, at most every 100 ms.
    if (Date.now() - this.lastScan > 100) await this.rescan(true);
    return this.discovered.get(name);
  }
}
