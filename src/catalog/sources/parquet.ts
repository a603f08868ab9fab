/**
 * Parquet files, decoded with parquet-wasm one row group at a time.
 *
 * The decoding runs in a worker thread, one per scan or read, for two reasons:
 * - parquet-wasm's async reader (`ParquetFile.read`/`stream`) unwraps decode and I/O errors, so a
 *   corrupt page, an unsupported codec or a file changed mid-read panics inside a wasm task. That
 *   panic is an uncaught exception nobody can catch; in a worker it only ends the worker.
 * - WebAssembly memory never shrinks. A worker per read returns it when the read ends, and keeps
 *   the CPU-heavy decoding off the event loop that serves every other request.
 *
 * The worker reads the file through `openAsBlob`, so only the footer and the requested row group's
 * column chunks are read from disk; it sends each row group back as Arrow IPC stream bytes, which
 * are split into messages here without decoding them again.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Schema } from 'apache-arrow';
import { FlightgateError, invalidArgument } from '../../core/errors.js';
import { decodeSchema, splitIpcStream, summarize, type IpcMessage } from '../../ipc/message.js';
import type { Dataset, DatasetSource, DatasetStats, MessageOptions } from '../dataset.js';
import { FileScanCache } from '../file-scan-cache.js';

/** Rows per record batch within a row group (parquet-wasm's default is 1024, too small for Flight). */
const BATCH_ROWS = 65536;

/** The CommonJS Node build: it instantiates its wasm synchronously on require, no init call needed. */
const PARQUET_WASM = createRequire(import.meta.url).resolve('parquet-wasm/node');

/**
 * The worker's code. It is plain JavaScript evaluated as CommonJS (not a module file) so it runs
 * the same under tsx and from the compiled output. Requests are answered one at a time: `open`
 * reads the footer; `read` decodes one row group. Buffers are transferred, not copied.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openAsBlob } = require('node:fs');
const parquet = require(workerData.parquetWasm);
let file;
parentPort.on('message', async (req) => {
  try {
    if (req.op === 'open') {
      file = await parquet.ParquetFile.fromFile(await openAsBlob(workerData.path));
      const meta = file.metadata();
      const reply = { ok: true, rows: meta.fileMetadata().numRows(), rowGroups: meta.numRowGroups() };
      meta.free();
      reply.ipc = file.schema().intoIPCStream();
      parentPort.postMessage(reply, [reply.ipc.buffer]);
    } else {
      const ipc = (await file.read({ rowGroups: [req.rowGroup], batchSize: workerData.batchRows })).intoIPCStream();
      parentPort.postMessage({ ok: true, ipc }, [ipc.buffer]);
    }
  } catch (err) {
    parentPort.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
  }
});
`;

type Request = { op: 'open' } | { op: 'read'; rowGroup: number };
type Reply =
  | { ok: true; ipc: Uint8Array; rows?: number; rowGroups?: number }
  | { ok: false; message: string };

/** One worker holding one open Parquet file; requests are strictly sequential. */
class ParquetReader {
  private readonly worker: Worker;
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    // execArgv: [] so the worker does not load the parent's loaders (tsx), which it does not need.
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { path, parquetWasm: PARQUET_WASM, batchRows: BATCH_ROWS },
    });
    this.worker.on('message', (r: Reply) => this.settle((p) => p.resolve(r)));
    this.worker.on('error', (e: Error) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`Parquet reader exited (code ${code})`)));
  }

  private settle(f: (p: NonNullable<ParquetReader['pending']>) => void): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) f(p);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.settle((p) => p.reject(e));
  }

  /** Sends a request; INVALID_ARGUMENT naming the file if it fails or the decoder crashes. */
  async request(req: Request, what: string): Promise<Reply & { ok: true }> {
    let reply: Reply;
    try {
      if (this.failure) throw this.failure;
      reply = await new Promise<Reply>((resolve, reject) => {
        this.pending = { resolve, reject };
        this.worker.postMessage(req);
      });
    } catch (err) {
      // A crash: wasm panics surface as `RuntimeError: unreachable`, which says nothing useful.
      const detail = err instanceof Error && err.message !== 'unreachable' ? `: ${err.message}` : '';
      throw invalidArgument(`${this.path}: the Parquet decoder failed while ${what} (corrupt or unsupported file?)${detail}`, err);
    }
    if (!reply.ok) throw invalidArgument(`${this.path} could not be read as Parquet while ${what}: ${reply.message}`);
    return reply;
  }

  close(): void {
    void this.worker.terminate();
  }
}

interface Footer {
  /** The file's schema as an IPC schema message, exactly as parquet-wasm writes it. */
  schemaMessage: IpcMessage;
  schema: Schema;
  rows: number;
  rowGroups: number;
}

async function openFooter(reader: ParquetReader): Promise<Footer> {
  const reply = await reader.request({ op: 'open' }, 'reading its footer');
  const [first] = splitIpcStream(reply.ipc);
  if (!first) throw invalidArgument(`${reader.path}: Parquet schema could not be converted to Arrow`);
  return { schemaMessage: first, schema: decodeSchema(first.header), rows: reply.rows ?? 0, rowGroups: reply.rowGroups ?? 0 };
}

interface Scan {
  footer: Footer;
}

/** A dataset backed by one Parquet file; schema and row count come from its footer alone. */
export class ParquetFileDataset implements Dataset {
  readonly kind = 'parquet';
  readonly writable = false;
  private readonly scans: FileScanCache<Scan>;

  constructor(
    readonly name: string,
    readonly path: string,
  ) {
    this.scans = new FileScanCache(path, async () => {
      const reader = new ParquetReader(path);
      try {
        return { footer: await openFooter(reader) };
      } finally {
        reader.close();
      }
    });
  }

  private current(): Promise<Scan> {
    return this.scans.get();
  }

  async schema(): Promise<Schema> {
    return (await this.current()).footer.schema;
  }

  async stats(): Promise<DatasetStats> {
    // IPC size is unknown without decoding everything.
    return { records: (await this.current()).footer.rows, bytes: -1 };
  }

  async *messages(options: MessageOptions = {}): AsyncGenerator<IpcMessage> {
    const { signal } = options;
    // Refresh the cached schema and stats if the file changed, so they describe what is served.
    await this.current();
    const reader = new ParquetReader(this.path);
    try {
      // This reader's own footer: the file could change between the scan and here.
      const footer = await openFooter(reader);
      yield footer.schemaMessage;
      for (let i = 0; i < footer.rowGroups; i++) {
        signal?.throwIfAborted();
        const { ipc } = await reader.request({ op: 'read', rowGroup: i }, `reading row group ${i}`);
        // Each row group arrives as a whole IPC stream; its schema repeats the one sent above.
        // Dictionaries are resent per row group, which IPC streams allow (dictionary replacement).
        for (const m of splitIpcStream(ipc)) {
          if (summarize(m.header).kind !== 'schema') yield m;
        }
      }
    } catch (err) {
      if (err instanceof FlightgateError || signal?.aborted) throw err;
      throw invalidArgument(`${this.path} could not be read as Parquet: ${err instanceof Error ? err.message : String(err)}`, err);
    } finally {
      reader.close();
    }
  }
}

export const parquetSource: DatasetSource = {
  extensions: ['.parquet'],
  async open(name: string, path: string): Promise<Dataset> {
    const ds = new ParquetFileDataset(name, path);
    // Read the footer now so a bad file is reported when the catalog loads.
    await ds.schema();
    return ds;
  },
};
