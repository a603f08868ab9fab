/**
 * CSV files with a header row. Column types are inferred by one streaming pass over the file
 * (which also counts rows); every read streams the file again and builds batches as it goes, so a
 * file of any size is served with memory bounded by one batch.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import {
  Bool,
  Field,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  makeBuilder,
  makeData,
  type Builder,
  type DataType,
} from 'apache-arrow';
import { CsvError, parse } from 'csv-parse';
import { FlightgateError, failedPrecondition, invalidArgument } from '../../core/errors.js';
import type { IpcMessage } from '../../ipc/message.js';
import type { Dataset, DatasetSource, DatasetStats, MessageOptions } from '../dataset.js';
import { FileScanCache } from '../file-scan-cache.js';
import { messagesFromBatches } from '../../ipc/batch-messages.js';

/** Rows per record batch: large enough to amortise per-batch overhead, small enough to bound memory. */
const BATCH_ROWS = 65536;

type ColumnType = 'int64' | 'float64' | 'bool' | 'utf8';

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOL = /^(?:true|false)$/i;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isInt64(v: string): boolean {
  if (!INT.test(v)) return false;
  // Up to 18 digits always fits; only longer values need the exact range check.
  if (v.replace(/^[+-]/, '').length <= 18) return true;
  const n = BigInt(v);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** What a column may still be, narrowed value by value during the scan. */
class ColumnGuess {
  private seen = false;
  private int = true;
  private float = true;
  private bool = true;

  observe(v: string): void {
    this.seen = true;
    if (this.int) this.int = isInt64(v);
    if (this.float) this.float = FLOAT.test(v);
    if (this.bool) this.bool = BOOL.test(v);
  }

  /** A column with no values at all (header-only file, all empty) stays utf8: nothing says otherwise. */
  get type(): ColumnType {
    if (!this.seen) return 'utf8';
    if (this.int) return 'int64';
    if (this.float) return 'float64';
    if (this.bool) return 'bool';
    return 'utf8';
  }
}

const ARROW_TYPES: Record<ColumnType, () => DataType> = {
  int64: () => new Int64(),
  float64: () => new Float64(),
  bool: () => new Bool(),
  utf8: () => new Utf8(),
};

type Cell = bigint | number | boolean | string;

/**
 * Converts a non-empty field to its column's value. Only fails if the file changed after the scan
 * that chose the types (the scan already saw every value).
 */
const CONVERT: Record<ColumnType, (v: string) => Cell | undefined> = {
  int64: (v) => (isInt64(v) ? BigInt(v) : undefined),
  float64: (v) => (FLOAT.test(v) ? Number(v) : undefined),
  bool: (v) => (BOOL.test(v) ? v.toLowerCase() === 'true' : undefined),
  utf8: (v) => v,
};

/**
 * Streams the records of `path`, header first. csv-parse itself rejects a record whose field
 * count differs from the header's, with the line number. (Its per-record `info` option is left
 * off: it costs about a third of the parse time.)
 */
async function* readRows(path: string, signal?: AbortSignal): AsyncGenerator<string[]> {
  const parser = parse({ bom: true, skip_empty_lines: true });
  // pipeline (not pipe) so that a read error on the file reaches the parser and ends the loop.
  pipeline(createReadStream(path), parser, () => {});
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      yield record;
      signal?.throwIfAborted();
    }
  } catch (err) {
    if (err instanceof FlightgateError || signal?.aborted) throw err;
    if (err instanceof CsvError && err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      // csv-parse's message has the expected and actual counts ("expect 3, got 2 on line 4").
      throw invalidArgument(`${path} line ${String(err.lines)}: wrong number of fields for the header (${err.message})`, err);
    }
    if (err instanceof CsvError) throw invalidArgument(`${path} is not valid CSV: ${err.message}`, err);
    throw invalidArgument(`${path} could not be read: ${err instanceof Error ? err.message : String(err)}`, err);
  } finally {
    parser.destroy();
  }
}

interface Scan {
  schema: Schema;
  records: number;
}

async function scanFile(path: string): Promise<Scan> {
  let names: string[] | undefined;
  let guesses: ColumnGuess[] = [];
  let records = 0;
  for await (const record of readRows(path)) {
    if (!names) {
      names = record;
      guesses = record.map(() => new ColumnGuess());
      continue;
    }
    records++;
    for (let i = 0; i < record.length; i++) {
      const v = record[i]!;
      if (v !== '') guesses[i]!.observe(v);
    }
  }
  if (!names) throw invalidArgument(`${path} is empty: a CSV file needs a header row naming its columns`);
  const fields = names.map((n, i) => new Field(n, ARROW_TYPES[guesses[i]!.type](), true));
  return { schema: new Schema(fields), records };
}

/** A dataset backed by one CSV file; the type-inference scan is redone when the file changes. */
export class CsvFileDataset implements Dataset {
  readonly kind = 'csv';
  readonly writable = false;
  private readonly scans: FileScanCache<Scan>;

  constructor(
    readonly name: string,
    readonly path: string,
  ) {
    this.scans = new FileScanCache(path, () => scanFile(path));
  }

  private current(): Promise<Scan> {
    return this.scans.get();
  }

  async schema(): Promise<Schema> {
    return (await this.current()).schema;
  }

  async stats(): Promise<DatasetStats> {
    // IPC size is unknown without encoding everything.
    return { records: (await this.current()).records, bytes: -1 };
  }

  async *messages(options: MessageOptions = {}): AsyncGenerator<IpcMessage> {
    const { schema } = await this.current();
    yield* messagesFromBatches(schema, this.batches(schema, options.signal), options.signal);
  }

  private async *batches(schema: Schema, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
    const types = schema.fields.map((f) => columnType(f.type));
    const newBuilders = () => schema.fields.map((f) => makeBuilder({ type: f.type, nullValues: [null] }));
    let builders = newBuilders();
    let rows = 0;
    let header = true;
    let dataRow = 0;
    for await (const record of readRows(this.path, signal)) {
      if (header) {
        header = false;
        if (record.length !== types.length) throw changed(this.path);
        continue;
      }
      dataRow++;
      for (let i = 0; i < record.length; i++) {
        const v = record[i]!;
        if (v === '') {
          builders[i]!.append(null);
          continue;
        }
        const value = CONVERT[types[i]!](v);
        if (value === undefined) throw changed(this.path, dataRow);
        builders[i]!.append(value);
      }
      if (++rows === BATCH_ROWS) {
        yield toBatch(schema, builders, rows);
        builders = newBuilders();
        rows = 0;
      }
    }
    if (rows > 0) yield toBatch(schema, builders, rows);
  }
}

function columnType(t: DataType): ColumnType {
  if (t instanceof Int64) return 'int64';
  if (t instanceof Float64) return 'float64';
  if (t instanceof Bool) return 'bool';
  return 'utf8';
}

function changed(path: string, row?: number): FlightgateError {
  const where = row === undefined ? '' : ` (data row ${row} no longer matches its column type)`;
  return failedPrecondition(`${path} changed while being read${where}; retry the request`);
}

function toBatch(schema: Schema, builders: Builder[], rows: number): RecordBatch {
  const children = builders.map((b) => b.finish().flush());
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

export const csvSource: DatasetSource = {
  extensions: ['.csv'],
  async open(name: string, path: string): Promise<Dataset> {
    const ds = new CsvFileDataset(name, path);
    // Scan now so a bad file is reported when the catalog loads, not on first request.
    await ds.schema();
    return ds;
  },
};
