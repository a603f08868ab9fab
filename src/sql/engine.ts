/**
 * The embedded SQL engine: DuckDB through our binding. Every statement runs in a connection of
 * its own that holds exactly the tables it is given (temporary views over the scan function,
 * granted to that connection only), so what a caller's SQL can reach is decided by what exists
 * for it, not by reading its text. It also enforces the limits: statement size, queries at once
 * per principal and in all, time (the caller's deadline and a server maximum), and memory (the
 * engine's own limit, with spilling to a private directory).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Schema } from 'apache-arrow';
import type { Dataset, FileLayout } from '../catalog/dataset.js';
import { sameColumns } from '../catalog/schema-equality.js';
import { MASK_KEY_VARIABLE } from '../authz/view-definition.js';
import { failedPrecondition, FlightgateError, invalidArgument, permissionDenied, resourceExhausted } from '../core/errors.js';
import { Status } from '../core/status.js';
import { schemaMessage, type IpcMessage } from '../ipc/message.js';
import { recordBatchHeader } from '../ipc/record-batch-header.js';
import { cSchemaOf, schemaOf, UnsupportedType } from './arrow-c-format.js';
import { ScanFeeds, type FeedSource } from './dataset-feed.js';
import {
  loadNativeDuckDB, type CField, type ConnectionHandle, type DatabaseHandle, type NativeBatch, type NativeDuckDB, type NativeError,
  type NativeFileLayout, type ParameterValue, type ResultHandle,
} from './native.js';
import { ConnectionPool, poolKey } from './connection-pool.js';
import { defaultMemoryCeiling, memorySizeBytes } from './memory-size.js';
import { estimatedRows, rowBytes } from './result-estimate.js';
import { StatementCache, type CheckedStatement } from './statement-cache.js';
import { checkParseTree, parseTreeQuery, sqlString } from './statement-guard.js';

export interface SqlEngineSettings {
  /** DuckDB worker threads. */
  readonly threads: number;
  /** The engine's memory limit, as DuckDB reads it (`2GB`, `75%`): its buffer pool. */
  readonly memoryLimit: string;
  /**
   * Resident size of the process past which the engine allocates nothing more (strings,
   * results and all it allocates outside its buffer pool); default twice memoryLimit plus 1 GB.
   */
  readonly memoryCeiling?: string;
  /** Bytes of IPC file columns kept in memory once read, so later scans skip the file (0: none). */
  readonly scanCacheBytes?: number;
  /** Where operators spill past the memory limit (created private); none: no spilling. */
  readonly tempDirectory?: string;
  readonly maxTempDirectorySize?: string;
  readonly maxConcurrentQueries: number;
  readonly maxConcurrentQueriesPerPrincipal: number;
  readonly maxQuerySeconds: number;
  readonly maxStatementBytes: number;
  /** Rows fetched from the engine per round trip (in batches of DuckDB's vector size). */
  readonly resultBatchRows: number;
  /**
   * Results the planner expects to be smaller than this (bytes) are computed whole, on all
   * threads, before they stream; larger ones stream as they are computed. 0: always stream.
   */
  readonly materializeBelowBytes?: number;
  /**
   * Key of the `hash` column mask (hex); replicas must share it for their pseudonyms to agree.
   * A random one when unset.
   */
  readonly columnHashKey?: string;
}

export const DEFAULT_SQL_SETTINGS: SqlEngineSettings = {
  threads: 2,
  memoryLimit: '1GB',
  maxConcurrentQueries: 16,
  maxConcurrentQueriesPerPrincipal: 4,
  maxQuerySeconds: 300,
  maxStatementBytes: 1024 * 1024,
  resultBatchRows: 65536,
  materializeBelowBytes: 128e6,
  scanCacheBytes: 512e6,
};

/** How long the planner's estimate of a statement's result is trusted. */
const ESTIMATE_MS = 60_000;

/** A table a statement may read: the name SQL uses for it and the dataset behind it. */
export interface SqlTable {
  readonly name: string;
  readonly dataset: Dataset;
  /** What of the dataset the table shows, when a row or column policy restricts it. */
  readonly view?: TableView;
}

/** A policy's view of a dataset (see authz/view-definition.ts): SQL over the dataset's columns. */
export interface TableView {
  readonly select: string;
  readonly where?: string;
  /** Whether `select` reads the column-hash key. */
  readonly usesMaskKey: boolean;
  /** The grants it comes from, for messages. */
  readonly grants: readonly string[];
}

export interface StatementRequest {
  /** Whose statement it is (a principal key), for the per-principal limit. */
  readonly owner: string;
  readonly tables: readonly SqlTable[];
  readonly sql: string;
  readonly parameters?: readonly ParameterValue[];
  readonly signal?: AbortSignal;
  /** The caller's deadline, ms since the epoch. */
  readonly deadline?: number;
}

export interface StatementShape {
  readonly schema: Schema;
  readonly parameters: Schema;
}

interface RegisteredSource extends FeedSource {
  readonly key: string;
  /** The file layout the engine reads itself, when the dataset has one (the identity of a version). */
  readonly layout?: FileLayout;
}

/** The settings' names, for errors that say which one to raise. */
const SETTING = {
  memory: 'sql.memoryLimit',
  ceiling: 'sql.memoryCeiling',
  time: 'sql.maxQuerySeconds',
  total: 'sql.maxConcurrentQueries',
  perPrincipal: 'sql.maxConcurrentQueriesPerPrincipal',
  size: 'sql.maxStatementBytes',
};

export class SqlEngine {
  private readonly native: NativeDuckDB;
  private readonly db: DatabaseHandle;
  private readonly feeds: ScanFeeds;
  /** By dataset name: the source its views currently use. */
  private readonly byDataset = new Map<string, RegisteredSource>();
  /** By key: every source a bound statement may still scan. */
  private readonly byKey = new Map<string, RegisteredSource>();
  private nextKey = 0;
  private running = 0;
  private readonly perOwner = new Map<string, number>();
  private closed = false;
  private readonly skipped = new Set<string>();
  private readonly spillDirectory: string | undefined;
  private readonly statements = new StatementCache();
  private readonly pool: ConnectionPool;
  private readonly columnHashKey: string;

  constructor(
    readonly settings: SqlEngineSettings = DEFAULT_SQL_SETTINGS,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.columnHashKey = settings.columnHashKey ?? randomBytes(32).toString('hex');
    this.native = loadNativeDuckDB();
    this.feeds = new ScanFeeds(this.native, (key) => this.byKey.get(key), (err) => this.warn(`a SQL scan failed: ${err instanceof Error ? err.message : String(err)}`));
    if (settings.tempDirectory) {
      // A directory of this process's own under the spill directory, named by 128 random bits:
      // the engine must be allowed to write there, and no statement can name what it cannot guess.
      if (/['",[\]\\]/.test(settings.tempDirectory)) throw new Error(`sql.tempDirectory may not contain quotes, commas, brackets or backslashes: ${settings.tempDirectory}`);
      this.spillDirectory = join(settings.tempDirectory, randomBytes(16).toString('hex'));
      mkdirSync(this.spillDirectory, { recursive: true, mode: 0o700 });
    }
    this.db = this.native.open(
      {
        threads: String(settings.threads),
        memoryLimit: settings.memoryLimit,
        tempDirectory: this.spillDirectory,
        maxTempDirectorySize: settings.maxTempDirectorySize,
        spillDirectoryList: this.spillDirectory ? `['${this.spillDirectory}/']` : undefined,
        memoryCeiling: settings.memoryCeiling ? memorySizeBytes(settings.memoryCeiling) : defaultMemoryCeiling(settings.memoryLimit),
        scanCacheBytes: settings.scanCacheBytes ?? DEFAULT_SQL_SETTINGS.scanCacheBytes,
      },
      this.feeds.onEvent,
    );
    this.feeds.attach(this.db);
    this.pool = new ConnectionPool(this.native);
  }

  private get materializeBelow(): number {
    return this.settings.materializeBelowBytes ?? DEFAULT_SQL_SETTINGS.materializeBelowBytes ?? 0;
  }

  get version(): string {
    return this.native.version();
  }

  /** Bytes of file columns held in memory for later scans (for tests and metrics). */
  get scanCacheBytes(): number {
    return this.native.scanCacheBytes(this.db);
  }

  /** Connections kept for their owners' next statements (for tests and metrics). */
  get idleConnections(): number {
    return this.pool.size;
  }

  /** Statements running now (for tests, metrics and shutdown). */
  get activeStatements(): number {
    return this.running;
  }

  /** The result and parameter schemas of a statement, without running it. */
  async describe(request: StatementRequest): Promise<StatementShape> {
    // A statement described before over the very same views has the same shape.
    const known = this.closed ? undefined : this.statements.get(request.sql);
    if (known?.shapes) {
      const shape = known.shapes.get(viewsKey(await this.sources(request.tables, known.mentioned)));
      if (shape) return shape;
    }
    const session = await this.session(request);
    try {
      const shape = await session.call<{ fields: CField[]; parameters: CField[] }>((cb) => this.native.describe(session.conn, request.sql, false, cb));
      const out = { schema: resultSchema(shape.fields), parameters: resultSchema(shape.parameters) };
      session.checked.rowBytes = rowBytes(out.schema);
      rememberShape(session.checked, viewsKey(session.views), out);
      session.reusable = true;
      return out;
    } catch (err) {
      throw session.failure(err);
    } finally {
      await session.close();
    }
  }

  /** Runs a query; its result streams from `messages()` and must be read to the end or closed. */
  async query(request: StatementRequest): Promise<QueryRun> {
    const session = await this.session(request);
    try {
      const params = request.parameters ?? [];
      const execute = (budget: number) =>
        session.call<{ handle: ResultHandle; fields: CField[]; materialized: boolean } | null>((cb) =>
          this.native.execute(session.conn, request.sql, false, params, budget, cb),
        );
      const budget = params.length === 0 && (await this.expectedSmall(session, request.sql)) ? this.materializeBelow : 0;
      let result: { handle: ResultHandle; fields: CField[]; materialized: boolean } | null;
      try {
        result = await execute(budget);
      } catch (err) {
        // Computed whole, the result met the memory ceiling; streamed, it may fit.
        if (!budget || !isOutOfMemory(err) || session.stopped) throw err;
        result = await execute(0);
      }
      if (!result) throw invalidArgument('the statement returned no result');
      return new QueryRun(this.native, session, result.handle, resultSchema(result.fields), this.settings.resultBatchRows, result.materialized);
    } catch (err) {
      await session.close();
      throw session.failure(err);
    }
  }

  /** Whether the planner expects the result below `materializeBelowBytes` (asked once a minute per statement). */
  private async expectedSmall(session: Session, sql: string): Promise<boolean> {
    const limit = this.materializeBelow;
    if (limit <= 0) return false;
    const entry = session.checked;
    const now = Date.now();
    if (!entry.estimate || now - entry.estimate.at > ESTIMATE_MS) {
      const rows = estimatedRows(await session.scalarString(`EXPLAIN (FORMAT JSON) ${sql}`, 1).catch(() => ''));
      entry.estimate = { rows: rows ?? Infinity, at: now };
    }
    return entry.estimate.rows * (entry.rowBytes ?? 64) < limit;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pool.close();
    this.feeds.stopAll();
    if (this.spillDirectory) rmSync(this.spillDirectory, { recursive: true, force: true });
  }

  /** A connection holding the request's tables, its statement checked, within the limits. */
  private async session(request: StatementRequest): Promise<Session> {
    if (this.closed) throw new FlightgateError(Status.UNAVAILABLE, 'the SQL engine is shutting down');
    const { sql, owner } = request;
    const bytes = Buffer.byteLength(sql);
    if (bytes > this.settings.maxStatementBytes) throw invalidArgument(`the statement is ${bytes} bytes; ${SETTING.size} allows ${this.settings.maxStatementBytes}`);
    if (!sql.trim()) throw invalidArgument('the statement is empty');
    if (sql.includes('\0')) throw invalidArgument('the statement contains a NUL character');
    const mine = this.perOwner.get(owner) ?? 0;
    if (mine >= this.settings.maxConcurrentQueriesPerPrincipal) {
      throw resourceExhausted(`${mine} of your queries are running; ${SETTING.perPrincipal} allows ${this.settings.maxConcurrentQueriesPerPrincipal} at once`);
    }
    if (this.running >= this.settings.maxConcurrentQueries) {
      throw resourceExhausted(`the server is running ${this.running} queries; ${SETTING.total} allows ${this.settings.maxConcurrentQueries} at once`);
    }
    this.running++;
    this.perOwner.set(owner, mine + 1);
    const release = (): void => {
      this.running--;
      const left = (this.perOwner.get(owner) ?? 1) - 1;
      if (left) this.perOwner.set(owner, left);
      else this.perOwner.delete(owner);
    };
    let session: Session | undefined;
    const recycle = (key: string, conn: ConnectionHandle): boolean => {
      if (this.closed) return false;
      this.pool.give(key, conn);
      return true;
    };
    try {
      const known = this.statements.get(sql);
      if (known) {
        // Checked before: the connection may be waiting in the pool with these very views.
        const sources = await this.sources(request.tables, known.mentioned);
        const key = poolKey(owner, sources);
        const pooled = this.pool.take(key);
        session = new Session(this.native, pooled ?? this.native.connect(this.db), release, this.settings.maxQuerySeconds, request, this.spillDirectory, known, key, recycle);
        session.views = sources;
        if (!pooled) await this.holdViews(session, sources);
      } else {
        session = new Session(this.native, this.native.connect(this.db), release, this.settings.maxQuerySeconds, request, this.spillDirectory, { mentioned: new Set() }, '', recycle);
        const checked: CheckedStatement = { mentioned: checkParseTree(await session.scalarString(parseTreeQuery(sql))) };
        this.statements.set(sql, checked);
        const sources = await this.sources(request.tables, checked.mentioned);
        session.adopt(checked, poolKey(owner, sources));
        session.views = sources;
        await this.holdViews(session, sources);
      }
      return session;
    } catch (err) {
      if (session) {
        await session.close();
        throw session.failure(err);
      }
      release();
      throw err;
    }
  }

  /** Grants a fresh connection its sources and creates its views over them. */
  private async holdViews(session: Session, sources: readonly ViewSource[]): Promise<void> {
    this.native.grant(session.conn, sources.map((s) => s.key));
    const plain = sources.filter((s) => !s.view);
    if (plain.length) {
      await session.run(plain.map(({ name, key }) => `CREATE TEMP VIEW ${quoteIdentifier(name)} AS SELECT * FROM flightgate_scan(${sqlString(key)})`).join(';\n'));
    }
    const restricted = sources.filter((s) => s.view);
    if (restricted.some((s) => s.view!.usesMaskKey)) await session.run(`SET VARIABLE ${MASK_KEY_VARIABLE} = ${sqlString(this.columnHashKey)}`);
    for (const { name, key, view } of restricted) {
      const where = view!.where ? ` WHERE ${view!.where}` : '';
      try {
        await session.run(`CREATE TEMP VIEW ${quoteIdentifier(name)} AS SELECT ${view!.select} FROM flightgate_scan(${sqlString(key)})${where}`);
      } catch (err) {
        // The policy's text is not the caller's to see: they learn which grants, the log says why.
        this.warn(`the row and column policy of ${view!.grants.join(', ')} cannot be applied to dataset "${name}": ${(err as Error).message}`);
        throw failedPrecondition(`dataset "${name}" cannot be read: the row or column policy of ${view!.grants.join(', ')} does not fit it; an administrator must fix it (flightgate policy test shows why)`);
      }
    }
  }

  /** DuckDB's parse tree of a statement (`json_serialize_sql`), for checking policy expressions. */
  async parseTree(sql: string): Promise<string> {
    return this.ownScalar(parseTreeQuery(sql));
  }

  /** The SQL for a parse tree (`json_deserialize_sql`). */
  async sqlOfTree(tree: string): Promise<string> {
    return this.ownScalar(`SELECT json_deserialize_sql(CAST(${sqlString(tree)} AS JSON))`);
  }

  /** The tables a statement checked before mentions (lower case), if it was. */
  mentionedTables(sql: string): ReadonlySet<string> | undefined {
    return this.statements.get(sql)?.mentioned;
  }

  /** Runs one of our own one-value statements on a connection of its own, outside the callers' limits. */
  private async ownScalar(sql: string): Promise<string> {
    if (this.closed) throw new FlightgateError(Status.UNAVAILABLE, 'the SQL engine is shutting down');
    const session = new Session(this.native, this.native.connect(this.db), () => {}, this.settings.maxQuerySeconds, { owner: 'flightgate', tables: [], sql }, this.spillDirectory, { mentioned: new Set() }, '', () => false);
    try {
      return await session.scalarString(sql);
    } catch (err) {
      throw session.failure(err);
    } finally {
      await session.close();
    }
  }

  /**
   * The registered source of each table, registering (or re-registering) what changed. Only the
   * tables the statement mentions need their file layout (indexing a file the first time reads
   * it whole): the others keep what they have, since a view that is never scanned reads nothing.
   */
  private async sources(tables: readonly SqlTable[], mentioned: ReadonlySet<string>): Promise<ViewSource[]> {
    const out: ViewSource[] = [];
    // Each dataset's schema and layout (a stat of its file, say) are asked for all at once.
    const looked = await Promise.all(
      tables.map(async (t) => {
        const needed = mentioned.has(t.name.toLowerCase());
        const [schema, layout] = await Promise.all([t.dataset.schema(), needed ? t.dataset.fileLayout?.() : undefined]);
        return { t, schema, needed, layout };
      }),
    );
    for (const { t, schema, needed, layout: fresh } of looked) {
      let src = this.byDataset.get(t.dataset.name);
      const layout = needed ? fresh : src?.dataset === t.dataset ? src.layout : undefined;
      if (!src || !sameColumns(src.schema, schema) || src.layout !== layout) {
        const key = `s${++this.nextKey}`;
        try {
          this.native.registerSource(this.db, key, cSchemaOf(schema), (await t.dataset.stats()).records, layout && nativeLayout(layout));
        } catch (err) {
          if (!(err instanceof UnsupportedType) && !(err instanceof Error && (err as { code?: string }).code === 'FG_SQL_SOURCE')) throw err;
          // Shown through a policy, it can be read through the engine only: refused, never shown whole.
          if (t.view) throw failedPrecondition(`dataset "${t.name}" is shown to you through a row or column policy, and the SQL engine cannot read it: ${err.message}`);
          if (!this.skipped.has(t.dataset.name)) this.warn(`dataset "${t.dataset.name}" is left out of SQL: ${err.message}`);
          this.skipped.add(t.dataset.name);
          continue;
        }
        if (src) this.native.dropSource(this.db, src.key);
        src = { key, dataset: t.dataset, schema, layout };
        this.byDataset.set(t.dataset.name, src);
        this.byKey.set(key, src);
        this.forgetOldKeys();
      } else if (src.dataset !== t.dataset) {
        // Same columns, a newer version of the dataset: scans from now on read it.
        src = { ...src, dataset: t.dataset };
        this.byDataset.set(t.dataset.name, src);
        this.byKey.set(src.key, src);
      }
      out.push({ name: t.name, key: src.key, ...(t.view ? { view: t.view } : {}) });
    }
    return out;
  }

  /** Keys of replaced schemas stay readable for statements bound to them, up to a bound. */
  private forgetOldKeys(): void {
    if (this.byKey.size <= 4 * this.byDataset.size + 256) return;
    const current = new Set([...this.byDataset.values()].map((s) => s.key));
    for (const key of this.byKey.keys()) {
      if (!current.has(key)) this.byKey.delete(key);
      if (this.byKey.size <= 2 * this.byDataset.size + 128) break;
    }
  }
}

/** A table as a connection holds it: its name, its registered source and the policy's view, if any. */
interface ViewSource {
  readonly name: string;
  readonly key: string;
  readonly view?: TableView;
}

/** What a statement's shape depends on besides its text: the views it is described over. */
const viewsKey = (views: readonly ViewSource[]): string => JSON.stringify(views.map((v) => [v.name, v.key, v.view?.select, v.view?.where]));

/** Keeps a statement's shape for these views (a few view sets per statement). */
function rememberShape(entry: CheckedStatement, key: string, shape: StatementShape): void {
  const shapes = (entry.shapes ??= new Map());
  shapes.delete(key);
  shapes.set(key, shape);
  if (shapes.size > 8) shapes.delete(shapes.keys().next().value!);
}

function nativeLayout(layout: FileLayout): NativeFileLayout {
  const batches = new Float64Array(layout.batches.length * 8);
  let nodeCount = 0;
  let bufferCount = 0;
  for (const b of [...layout.batches, ...layout.dictionaries]) {
    nodeCount += b.nodes.length;
    bufferCount += b.buffers.length;
  }
  const nodes = new Float64Array(nodeCount);
  const buffers = new Float64Array(bufferCount);
  let n = 0;
  let m = 0;
  layout.batches.forEach((b, i) => {
    batches.set([b.file, b.bodyOffset, b.bodyLength, b.rows, n / 2, b.nodes.length / 2, m / 2, b.buffers.length / 2], i * 8);
    nodes.set(b.nodes, n);
    buffers.set(b.buffers, m);
    n += b.nodes.length;
    m += b.buffers.length;
  });
  const dictionaries = new Float64Array(layout.dictionaries.length * 9);
  layout.dictionaries.forEach((d, i) => {
    dictionaries.set([d.file, d.id, d.bodyOffset, d.bodyLength, d.rows, n / 2, d.nodes.length / 2, m / 2, d.buffers.length / 2], i * 9);
    nodes.set(d.nodes, n);
    buffers.set(d.buffers, m);
    n += d.nodes.length;
    m += d.buffers.length;
  });
  return { files: layout.files, batches, nodes, buffers, dictionaries };
}

/** DuckDB quotes identifiers in double quotes, doubling any inside. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function resultSchema(fields: readonly CField[]): Schema {
  try {
    return schemaOf(fields);
  } catch (err) {
    if (err instanceof UnsupportedType) throw invalidArgument(err.message);
    throw err;
  }
}

/** One statement's connection, its clock and its way out. */
class Session {
  private timer: NodeJS.Timeout | undefined;
  private repeat: NodeJS.Timeout | undefined;
  private stopReason: 'deadline' | 'server-limit' | 'cancelled' | undefined;
  private closing: Promise<void> | undefined;
  private readonly onAbort = (): void => this.stop('cancelled');
  /** Allocations the memory ceiling had refused when the statement began. */
  private readonly refusalsBefore: number;
  /** Set once the statement ended well: the connection may then serve the owner's next one. */
  reusable = false;
  /** The views the connection holds (name → source key, policy). */
  views: readonly ViewSource[] = [];

  constructor(
    private readonly native: NativeDuckDB,
    readonly conn: ConnectionHandle,
    private readonly release: () => void,
    private readonly maxSeconds: number,
    private readonly request: StatementRequest,
    private readonly spillDirectory: string | undefined,
    public checked: CheckedStatement,
    private poolKey: string,
    private readonly recycle: (key: string, conn: ConnectionHandle) => boolean,
  ) {
    this.refusalsBefore = native.memoryStats().refusals;
    const limit = Date.now() + maxSeconds * 1000;
    const deadline = request.deadline !== undefined && request.deadline < limit ? request.deadline : limit;
    const reason = deadline === limit ? 'server-limit' : 'deadline';
    this.timer = setTimeout(() => this.stop(reason), Math.max(0, deadline - Date.now()));
    this.timer.unref();
    if (request.signal?.aborted) this.stop('cancelled');
    request.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The statement's checked entry and pool key, once a fresh connection has parsed it. */
  adopt(checked: CheckedStatement, poolKey: string): void {
    this.checked = checked;
    this.poolKey = poolKey;
  }

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  /**
   * Stops the running statement, scans included, and refuses any after it. DuckDB forgets an
   * interrupt that lands just before a statement begins, so it is repeated until the session ends.
   */
  stop(reason: 'deadline' | 'server-limit' | 'cancelled'): void {
    if (this.stopReason || this.closing) return;
    this.stopReason = reason;
    this.native.interrupt(this.conn);
    this.repeat = setInterval(() => this.native.interrupt(this.conn), 100);
    this.repeat.unref();
  }

  call<T>(start: (cb: (err: NativeError | undefined, value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));
  }

  /** Runs our own statements (views); their results are dropped. */
  async run(sql: string): Promise<void> {
    const r = await this.call<{ handle: ResultHandle } | null>((cb) => this.native.execute(this.conn, sql, true, null, 0, cb));
    if (r) await new Promise<void>((resolve) => this.native.closeResult(this.conn, r.handle, resolve));
  }

  /** The VARCHAR value in row 0, column `column` (all columns VARCHAR) of our own statement. */
  async scalarString(sql: string, column = 0): Promise<string> {
    // One row: streamed (a budget would have other statements' growth interrupt it).
    const r = await this.call<{ handle: ResultHandle } | null>((cb) => this.native.execute(this.conn, sql, true, null, 0, cb));
    if (!r) throw new Error('no result');
    try {
      const batches = await this.call<NativeBatch[]>((cb) => this.native.fetch(this.conn, r.handle, 1, cb));
      return firstString(batches[0], column);
    } finally {
      await new Promise<void>((resolve) => this.native.closeResult(this.conn, r.handle, resolve));
    }
  }

  /** The error to show for what the engine threw, given why the statement may have stopped. */
  failure(err: unknown): Error {
    if (err instanceof FlightgateError) return err;
    const e = err as NativeError;
    const raw = e instanceof Error ? e.message : String(err);
    // The spill directory's name is what keeps statements out of it: it never reaches a caller.
    const message = this.spillDirectory ? raw.replaceAll(this.spillDirectory, '<spill directory>') : raw;
    if (this.stopReason === 'cancelled') return new FlightgateError(Status.CANCELLED, 'the query was cancelled');
    if (this.stopReason === 'server-limit') {
      return new FlightgateError(Status.DEADLINE_EXCEEDED, `the query ran longer than ${SETTING.time} allows (${this.maxSeconds} s)`);
    }
    if (this.stopReason === 'deadline') return new FlightgateError(Status.DEADLINE_EXCEEDED, "the query ran past the call's deadline");
    const stats = this.native.memoryStats();
    if (stats.refusals > this.refusalsBefore && (e.engineCode === 'OUT_OF_MEMORY' || /out of memory/i.test(message))) {
      return resourceExhausted(`the query needs more memory than ${SETTING.ceiling} allows (the server holds ${gigabytes(stats.ceiling)} GB or more)`);
    }
    if (e.engineCode === 'OUT_OF_MEMORY' || /^Out of Memory Error/i.test(message)) {
      return resourceExhausted(`the query needs more memory than ${SETTING.memory} allows: ${stripPrefix(message)}`);
    }
    if (/^Permission Error/i.test(message)) return permissionDenied('SQL has no access to files, the network or extensions; query the tables you may read');
    if (message.startsWith('INVALID_ARGUMENT: ')) return invalidArgument(message.slice('INVALID_ARGUMENT: '.length));
    return invalidArgument(message);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.timer);
      clearInterval(this.repeat);
      this.request.signal?.removeEventListener('abort', this.onAbort);
      // A stopped connection keeps DuckDB's interrupt flag: only one that ended well is kept.
      if (this.reusable && !this.stopReason && this.poolKey && this.recycle(this.poolKey, this.conn)) {
        this.release();
        return;
      }
      await new Promise<void>((resolve) => this.native.disconnect(this.conn, resolve));
      this.release();
    })();
    return this.closing;
  }

}

const gigabytes = (bytes: number): string => (bytes / 1e9).toFixed(1);

function isOutOfMemory(err: unknown): boolean {
  const e = err as NativeError | undefined;
  return e?.engineCode === 'OUT_OF_MEMORY' || /^Out of Memory Error/i.test(e?.message ?? '');
}

/** DuckDB's advice (SET threads, SET memory_limit) names settings callers cannot change: only the cause is kept. */
const stripPrefix = (m: string): string => m.replace(/^Out of Memory Error:\s*/i, '').replace(/\s*Possible solutions:[\s\S]*$/, '');

/** Reads row 0 of column `column` of an all-VARCHAR batch: validity, offsets, data per column in its body. */
function firstString(batch: NativeBatch | undefined, column: number): string {
  if (!batch || batch.length < 1) throw new Error('empty result');
  const offsetsAt = batch.buffers[6 * column + 2]!;
  const dataAt = batch.buffers[6 * column + 4]!;
  const view = new DataView(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength);
  const start = view.getInt32(offsetsAt, true);
  const end = view.getInt32(offsetsAt + 4, true);
  return Buffer.from(batch.body.buffer, batch.body.byteOffset + dataAt + start, end - start).toString('utf8');
}

/** A result message; `release` hands its body back to the engine once it has been sent. */
export interface QueryMessage extends IpcMessage {
  readonly release?: () => void;
}

/** A running query's result: the schema, then record batches as the engine produces them. */
export class QueryRun {
  rows = 0;
  bytes = 0;
  private finished = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly native: NativeDuckDB,
    private readonly session: Session,
    private readonly handle: ResultHandle,
    readonly schema: Schema,
    private readonly batchRows: number,
    /** Whether the result was computed whole before its first batch (or streams as computed). */
    readonly materialized = false,
  ) {}

  async *messages(): AsyncGenerator<QueryMessage> {
    const fetch = (): Promise<NativeBatch[] & { done?: boolean }> =>
      this.session.call<NativeBatch[] & { done?: boolean }>((cb) => this.native.fetch(this.session.conn, this.handle, this.batchRows, cb));
    let pending: Promise<NativeBatch[] & { done?: boolean }> | undefined;
    try {
      yield schemaMessage(this.schema);
      pending = fetch();
      for (;;) {
        let batches: NativeBatch[] & { done?: boolean };
        try {
          batches = await pending!;
        } catch (err) {
          pending = undefined;
          throw this.session.failure(err);
        }
        const done = batches.done || batches.length === 0;
        // The engine computes the next batches while these are sent.
        pending = done ? undefined : fetch();
        for (const b of batches) {
          const body = b.body.subarray(0, b.bodyLength);
          const header = recordBatchHeader(b.length, b.nodes, b.buffers, body.length);
          this.rows += b.length;
          this.bytes += header.length + body.length;
          const token = b.release;
          yield token ? { header, body, release: () => this.native.releaseBody(token) } : { header, body };
        }
        if (done) break;
      }
      this.finished = true;
      this.session.reusable = true;
    } finally {
      // A fetch still running when the reader stops ends before the result closes (one queue per connection).
      pending?.catch(() => undefined);
      await this.close();
    }
  }

  /** Stops the query (CancelFlightInfo); a reader of `messages()` sees CANCELLED. */
  cancel(): void {
    if (!this.finished) this.session.stop('cancelled');
  }

  close(): Promise<void> {
    // The connection runs its jobs in order: whatever it does next (the owner's next statement,
    // or disconnecting) comes after the result is closed, so that need not be waited for.
    this.closing ??= (async () => {
      this.native.closeResult(this.session.conn, this.handle, () => {});
      await this.session.close();
    })();
    return this.closing;
  }
}
