/** The datasets the configuration declares by file path (`datasets`): opened once, at start. */
import { extname, resolve } from 'node:path';
import { failedPrecondition } from '../core/errors.js';
import type { Dataset, DatasetProvider, DatasetSource } from './dataset.js';
import { FileDataset } from './file-dataset.js';
import { checkDatasetName } from './names.js';
import { sourceFor } from './file-sources.js';

export interface DeclaredDataset {
  name: string;
  path: string;
  /** File format; taken from the extension when absent. */
  format?: string;
}

export class DeclaredFiles implements DatasetProvider {
  readonly label = 'the files declared in the configuration';
  private readonly datasets = new Map<string, FileDataset>();

  constructor(
    private readonly declared: readonly DeclaredDataset[],
    private readonly sources: readonly DatasetSource[],
  ) {}

  async load(): Promise<void> {
    for (const [i, d] of this.declared.entries()) {
      // Errors name the setting, as configuration errors do: datasets[i].path.
      const setting = `datasets[${i}] (${JSON.stringify(d.name).slice(0, 80)})`;
      checkDatasetName(d.name);
      const source = sourceFor(this.sources, d.path, d.format);
      if (!source) {
        const formats = this.sources.flatMap((s) => s.extensions.map((e) => e.slice(1))).join(', ');
        throw failedPrecondition(`${setting}.format: no reader for ${d.format ?? (extname(d.path) || 'extension-less')} files (formats: ${formats})`);
      }
      const path = resolve(d.path);
      let dataset: Dataset;
      try {
        dataset = await source.open(d.name, path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw failedPrecondition(`${setting}.path: cannot open ${path}: ${code ?? (err as Error).message}`);
      }
      this.datasets.set(d.name, new FileDataset(dataset, path));
    }
  }

  async list(): Promise<readonly Dataset[]> {
    return [...this.datasets.values()];
  }

  async find(name: string): Promise<Dataset | undefined> {
    return this.datasets.get(name);
  }
}
