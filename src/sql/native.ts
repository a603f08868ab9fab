/**
 * The DuckDB binding (native/flightgate_duckdb.c), loaded once, with the types of what it takes
 * and returns. Built by `scripts/build-native.mjs` (npm install runs it); a missing build is a
 * clear error when the SQL engine opens, not when the package is imported.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A field in the Arrow C data interface's terms: format string, name, nullability, children. */
export interface CField {
  readonly format: string;
  readonly name: string;
  readonly nullable: boolean;
  readonly children: readonly CField[];
  /** Key/value pairs (extension types), on fields DuckDB returns. */
  readonly metadata?: readonly (readonly [string, string])[];
  readonly dictionary?: CField;
  /** The IPC dictionary id, on dictionary-encoded fields of datasets. */
  readonly dictionaryId?: number;
}

/**
 * Where a source's batches lie in files, flattened: per batch (file, body offset, body length,
 * rows, first node, node count, first buffer, buffer count), and all nodes and buffers as pairs.
 */
export interface NativeFileLayout {
  readonly files: readonly string[];
  readonly batches: Float64Array;
  readonly nodes: Float64Array;
  readonly buffers: Float64Array;
  /** Per dictionary batch: file, id, body offset, body length, rows, first node, node count, first buffer, buffer count. */
  readonly dictionaries: Float64Array;
}

/** One result batch: its length, IPC field nodes and buffer regions as (a, b) pairs, and its body. */
export interface NativeBatch {
  readonly length: number;
  /** length, null count — per field node, depth first. */
  readonly nodes: Float64Array;
  /** offset, length — per buffer, in IPC order. */
  readonly buffers: Float64Array;
  /** The pool block holding the body: its first `bodyLength` bytes (the same block comes back with later batches). */
  readonly body: Uint8Array;
  readonly bodyLength: number;
  /** Hands the body back to the engine's pool once it is sent (the Buffer must not be read after). */
  readonly release: ReleaseToken | null;
}

export interface NativeError extends Error {
  /** INTERRUPT, OUT_OF_MEMORY, or DUCKDB for the rest. */
  readonly engineCode?: 'INTERRUPT' | 'OUT_OF_MEMORY' | 'DUCKDB';
}

declare const handle: unique symbol;
export type DatabaseHandle = { readonly [handle]: 'database' };
export type ConnectionHandle = { readonly [handle]: 'connection' };
export type ResultHandle = { readonly [handle]: 'result' };
export type ReleaseToken = { readonly [handle]: 'body' };

/** Scan events: 1 a scan started (key given), 2 its queue has room again, 3 it stopped early. */
export const SCAN_START = 1;
export const SCAN_DRAIN = 2;
export const SCAN_STOP = 3;
/** scanPush answers. */
export const PUSH_ACCEPTED = 0;
export const PUSH_FULL = 1;
export const PUSH_CLOSED = 2;

/** A bound parameter; DuckDB casts it to the parameter's type (strings to dates, say). */
export type ParameterValue = null | boolean | number | bigint | string | Uint8Array;

type Callback<T> = (err: NativeError | undefined, value: T) => void;

export interface NativeDuckDB {
  version(): string;
  /** The memory ceiling's view: bytes mapped, the ceiling, mappings refused so far. */
  memoryStats(): { mapped: number; ceiling: number; refusals: number };
  /** Bytes of file columns the database's scan cache holds now. */
  scanCacheBytes(db: DatabaseHandle): number;
  releaseBody(token: ReleaseToken): void;
  open(
    settings: {
      threads?: string;
      memoryLimit?: string;
      tempDirectory?: string;
      maxTempDirectorySize?: string;
      /** DuckDB's list literal of directories readable despite external access being off: the spill directory. */
      spillDirectoryList?: string;
      /** Resident bytes of the process past which DuckDB allocates nothing more (process-wide; raised, never lowered). */
      memoryCeiling?: number;
      /** Bytes of IPC file columns kept in memory once read, for the scans that follow (0: none). */
      scanCacheBytes?: number;
    },
    onScanEvent: (kind: number, scanId: number, key: string | undefined) => void,
  ): DatabaseHandle;
  registerSource(db: DatabaseHandle, key: string, root: CField, rows: number, layout?: NativeFileLayout): void;
  dropSource(db: DatabaseHandle, key: string): void;
  /** A record batch, or with `dictionaryId` a dictionary batch (replacing the one in effect for that id). */
  scanPush(db: DatabaseHandle, scanId: number, length: number, nodes: Float64Array, buffers: Float64Array, body: Uint8Array, dictionaryId?: number): number;
  scanEnd(db: DatabaseHandle, scanId: number, error?: string): void;
  connect(db: DatabaseHandle): ConnectionHandle;
  grant(conn: ConnectionHandle, keys: readonly string[]): void;
  execute(
    conn: ConnectionHandle,
    sql: string,
    internal: boolean,
    params: readonly ParameterValue[] | null,
    /**
     * Bytes the process may grow by while the whole result is computed before answering (dense,
     * parallel); past them, or with 0, the result streams as it is fetched.
     */
    materializeBudget: number,
    cb: Callback<{ handle: ResultHandle; fields: CField[]; materialized: boolean } | null>,
  ): void;
  /** Prepares without running: the result's columns and the parameters' types. */
  describe(conn: ConnectionHandle, sql: string, internal: boolean, cb: Callback<{ fields: CField[]; parameters: CField[] }>): void;
  fetch(conn: ConnectionHandle, result: ResultHandle, maxRows: number, cb: Callback<NativeBatch[] & { done?: boolean }>): void;
  closeResult(conn: ConnectionHandle, result: ResultHandle, cb: () => void): void;
  interrupt(conn: ConnectionHandle): void;
  disconnect(conn: ConnectionHandle, cb: () => void): void;
}

const ADDON = fileURLToPath(new URL('../../native/build/flightgate_duckdb.node', import.meta.url));
let loaded: NativeDuckDB | undefined;

export function loadNativeDuckDB(): NativeDuckDB {
  if (loaded) return loaded;
  if (!existsSync(ADDON)) {
    throw new Error(`the SQL engine's binding is not built (${ADDON} is missing): run \`node scripts/build-native.mjs\` (it needs a C compiler), or set sql.enabled: false`);
  }
  loaded = createRequire(import.meta.url)(ADDON) as NativeDuckDB;
  return loaded;
}
