/**
 * Datasets held as Arrow tables in memory: what an embedding application hands the server
 * (computed results, reference data, a cache). Read-only; the set of tables may change between
 * calls, since it is read through a function each time.
 */
import type { Schema, Table } from 'apache-arrow';
import type { IpcMessage } from '../ipc/message.js';
import type { Dataset, DatasetProvider, DatasetStats, MessageOptions } from './dataset.js';
import { messagesFromBatches } from '../ipc/batch-messages.js';
import { checkDatasetName } from './names.js';

class TableDataset implements Dataset {
  readonly kind = 'memory';
  readonly writable = false;

  constructor(
    readonly name: string,
    private readonly table: Table,
  ) {}

  async schema(): Promise<Schema> {
    return this.table.schema;
  }

  async stats(): Promise<DatasetStats> {
    return { records: this.table.numRows, bytes: -1 };
  }

  messages(options: MessageOptions = {}): AsyncIterable<IpcMessage> {
    return messagesFromBatches(this.table.schema, this.table.batches, options.signal);
  }
}

export class TableProvider implements DatasetProvider {
  private readonly datasets = new Map<Table, TableDataset>();

  /** `tables`: name → table, read on every lookup. */
  constructor(
    readonly label: string,
    private readonly tables: () => ReadonlyMap<string, Table> | Record<string, Table>,
  ) {}

  private current(): [string, Table][] {
    const t = this.tables();
    return t instanceof Map ? [...t.entries()] : Object.entries(t);
  }

  private datasetOf(name: string, table: Table): TableDataset {
    let ds = this.datasets.get(table);
    if (!ds || ds.name !== name) {
      ds = new TableDataset(checkDatasetName(name), table);
      this.datasets.set(table, ds);
    }
    return ds;
  }

  async list(): Promise<readonly Dataset[]> {
    return this.current().map(([name, table]) => this.datasetOf(name, table));
  }

  async find(name: string): Promise<Dataset | undefined> {
    const hit = this.current().find(([n]) => n === name);
    return hit && this.datasetOf(hit[0], hit[1]);
  }
}
