import type { Schema } from 'apache-arrow';
import type { IpcMessage } from '../ipc/message.js';

export interface DatasetStats {
  /** Total rows, or -1 when the source cannot tell without reading everything. */
  readonly records: number;
  /** Total Arrow IPC bytes (headers and bodies), or -1 when unknown. */
  readonly bytes: number;
}

/**
 * A named dataset. Sources differ in where batches come from (a file, an upload, memory);
 * everyone downstream sees the same thing: a schema and a stream of IPC messages.
 */
export interface Dataset {
  readonly name: string;
  /** Source kind, e.g. `arrow`, `csv`, `parquet`, `managed`. */
  readonly kind: string;
  /** Whether DoPut may append to or replace it. */
  readonly writable: boolean;
  schema(): Promise<Schema>;
  stats(): Promise<DatasetStats>;
  /**
   * The data as IPC messages: the schema message first, then dictionary and record batches in
   * stream order. Reads lazily, so a large file is never held whole.
   */
  messages(options?: MessageOptions): AsyncIterable<IpcMessage>;
  /**
   * Where each record batch lies in the dataset's files, validated, for readers that read the
   * files themselves (the SQL engine, in parallel and without copies through JavaScript).
   * Undefined when the data is not in plain IPC files (compressed or dictionary-encoded batches,
   * memory, other sources): those readers then use `messages()`.
   */
  fileLayout?(): Promise<FileLayout | undefined>;
}

/** One record batch in a file: its body's place and its IPC field nodes and buffers as (a, b) pairs. */
export interface FileBatch {
  /** Index into FileLayout.files. */
  readonly file: number;
  readonly bodyOffset: number;
  readonly bodyLength: number;
  readonly rows: number;
  readonly nodes: Float64Array;
  readonly buffers: Float64Array;
}

/** A dictionary batch: the values a dictionary-encoded column's indices point into, in its file. */
export interface FileDictionary extends FileBatch {
  readonly id: number;
}

export interface FileLayout {
  readonly files: readonly string[];
  readonly batches: readonly FileBatch[];
  /** One per dictionary id per file (files that replace or extend a dictionary have no layout). */
  readonly dictionaries: readonly FileDictionary[];
}

export interface MessageOptions {
  signal?: AbortSignal;
  /**
   * Allocator for message bodies, so a consumer can recycle buffers once they are sent. Sources
   * that already hold their bodies in memory ignore it.
   */
  allocate?: (size: number) => Uint8Array;
  /**
   * The reader only sends bodies on (DoGet): IPC file sources may serve them from the process's
   * body cache, shared, and keep what they read there.
   */
  cached?: boolean;
  /** Only these segments (a dataset that has segments; others refuse). */
  segments?: SegmentRange;
}

/**
 * Segments `from` (inclusive) to `to` (exclusive) of a dataset made of segment files, naming the
 * first and last file so that a range taken from one version is not read from another (an
 * append keeps them; a replace does not).
 */
export interface SegmentRange {
  readonly from: number;
  readonly to: number;
  readonly first: string;
  readonly last: string;
}

/**
 * Supplies datasets: the files declared in the configuration, the uploads, the data directory,
 * or anything an embedding application brings (a database file of many tables, a live query, a
 * table in memory). The catalog asks its providers in order; the first that has a name wins.
 */
export interface DatasetProvider {
  /** What the provider is, for messages: `uploads`, `the data directory`, `sales database`. */
  readonly label: string;
  /** Called once before serving; an error stops the start. */
  load?(onWarning: (message: string) => void): Promise<void>;
  /** Every dataset it has now; names must be valid dataset names. */
  list(): Promise<readonly Dataset[]>;
  /** The dataset called `name`, if it has one. */
  find(name: string): Promise<Dataset | undefined>;
}

/** Builds a dataset from a file: one per format, chosen by file extension. */
export interface DatasetSource {
  /** Lower-case extensions this source reads, with the dot: `.csv`. */
  readonly extensions: readonly string[];
  open(name: string, path: string): Promise<Dataset>;
}
