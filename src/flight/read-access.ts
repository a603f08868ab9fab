/**
 * The one place every read of a dataset goes through, whatever the RPC: DoGet of a path or a
 * ticket, GetSchema, GetFlightInfo, ListFlights, the describe action, Flight SQL statements,
 * prepared statements and metadata. It asks the AccessControl whether the caller may read and
 * what of it (a ReadScope), and turns a restricted scope into the caller's view: the rows and
 * columns the policy shows, computed by the SQL engine. A read without restrictions keeps the
 * dataset's own stream (zero copies); a restricted one never reaches the caller any other way.
 */
import type { Field, Schema } from 'apache-arrow';
import { checkFilterTree, filterProbe, filterTemplate, renderFilter, type FilterTemplate } from '../authz/filter-expression.js';
import type { ReadScope, RestrictedGrant } from '../authz/policy.js';
import { findField, ruleMisfit } from '../authz/column-types.js';
import { parseColumnRule, PolicyError, type ColumnRule, type ReadPolicy } from '../core/read-policy.js';
import { viewDefinition, type GrantRestriction, type ViewDefinition } from '../authz/view-definition.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Dataset, DatasetStats, SegmentRange } from '../catalog/dataset.js';
import { ManagedDataset } from '../catalog/managed/managed-dataset.js';
import { failedPrecondition, FlightgateError, permissionDenied } from '../core/errors.js';
import { principalKey, type Principal } from '../core/principal.js';
import { Status } from '../core/status.js';
import type { IpcMessage } from '../ipc/message.js';
import type { SqlEngine, SqlTable } from '../sql/engine.js';
import { quoteIdentifier } from '../sql/engine.js';
import type { AccessControl } from './access.js';
import type { ServerCall } from './transport/call.js';

/** The decisions a read needs from the AccessControl. */
export type ReadDecisions = Pick<AccessControl, 'authorize' | 'may' | 'readScope'>;

/** A read's cancellation and deadline (a call's). */
export type ReadContext = Pick<ServerCall, 'signal' | 'deadline'>;

/** A dataset as one caller may read it. */
export interface ReadableDataset {
  readonly name: string;
  /** The dataset itself (its kind, whether it is writable). */
  readonly dataset: Dataset;
  /** The grants that let the caller read it (audit lines name them). */
  readonly grants: readonly string[];
  /** The policy's view for this caller; absent: the whole dataset. */
  readonly view?: ViewDefinition;
  /** The table a statement of this caller reads it as (every column guarded by the filter). */
  readonly table: SqlTable;
  /** The table a plain read (DoGet) streams: the same rows and values, without the guards no caller SQL needs. */
  readonly stream: SqlTable;
}

export interface ReadMessage extends IpcMessage {
  readonly release?: () => void;
}

/** A compiled grant for one dataset version: its filter template and its column rules by field. */
export interface CompiledGrant {
  readonly template?: FilterTemplate;
  readonly columns: ReadonlyMap<string, ColumnRule>;
}

/** Compiled grants kept per schema (a dataset version), at most this many policies each. */
const MAX_COMPILED_PER_SCHEMA = 256;

export class ReadAccess {
  /** By schema object (immutable per dataset version): compiled grants by grant id and policy text. */
  private readonly compiled = new WeakMap<Schema, Map<string, Promise<CompiledGrant>>>();

  constructor(
    private readonly catalog: Catalog,
    private readonly access: ReadDecisions,
    /** Applies policies; without it, a restricted read is refused. */
    private readonly engine: SqlEngine | undefined,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /**
   * The dataset `name` as `principal` may read it. PERMISSION_DENIED (audited, and the same
   * whether or not it exists) unless a grant allows reading it.
   */
  async open(principal: Principal, name: string, call: ServerCall): Promise<ReadableDataset> {
    await this.access.authorize(principal, 'read', name, call);
    const scope = await this.scope(principal, name);
    // The grants changed between the two questions: refused, as if the first had said so.
    if (!scope) throw permissionDenied(`"${principal.id}" may not read dataset "${name}"`);
    return this.withScope(principal, await this.catalog.get(name), scope);
  }

  /** `ds` as `principal` may read it, or undefined when they may not (nothing audited: for lists). */
  async readable(principal: Principal, ds: Dataset): Promise<ReadableDataset | undefined> {
    if (!(await this.access.may(principal, 'read', ds.name))) return undefined;
    const scope = await this.scope(principal, ds.name);
    return scope ? this.withScope(principal, ds, scope) : undefined;
  }

  /** Every dataset `principal` may read, each as they may read it. */
  async list(principal: Principal): Promise<ReadableDataset[]> {
    const out: ReadableDataset[] = [];
    for (const ds of await this.catalog.list()) {
      try {
        const r = await this.readable(principal, ds);
        if (r) out.push(r);
      } catch (err) {
        // A policy that does not fit one dataset leaves that one out of lists (reading it says why).
        if (err instanceof FlightgateError && err.status === Status.FAILED_PRECONDITION) continue;
        throw err;
      }
    }
    return out;
  }

  /**
   * The schema the caller sees: the dataset's, or the policy view's as the engine computes it;
   * `sql` for the table as statements see it (its columns are all nullable there).
   */
  async schema(r: ReadableDataset, principal: Principal, call?: ReadContext, of: 'stream' | 'sql' = 'stream'): Promise<Schema> {
    if (!r.view) return r.dataset.schema();
    const table = of === 'sql' ? r.table : r.stream;
    const shape = await this.requireEngine(r).describe({ owner: principalKey(principal), tables: [table], sql: wholeTable(r.name), signal: call?.signal, deadline: call?.deadline });
    return shape.schema;
  }

  /** Counts as the caller may know them: a filtered view's rows are not known without reading it. */
  async stats(r: ReadableDataset): Promise<DatasetStats> {
    const s = await r.dataset.stats();
    if (!r.view) return s;
    return { records: r.view.where ? -1 : s.records, bytes: -1 };
  }

  /**
   * The caller's data as IPC messages (schema first). Unrestricted: the dataset's own stream with
   * `allocate` for the bodies; restricted: the engine's result of the view. `counted` receives
   * the rows once the stream ends.
   */
  async *messages(r: ReadableDataset, principal: Principal, call: ReadContext, allocate: (n: number) => Uint8Array, counted: (rows: number) => void, segments?: SegmentRange): AsyncGenerator<ReadMessage> {
    if (segments) {
      // A range is one endpoint of several: read through a policy view (granted since), or from a dataset without segments, it would repeat rows.
      if (r.view || !(r.dataset instanceof ManagedDataset)) {
        throw failedPrecondition(`dataset "${r.name}" changed since this ticket was issued (its grants or its kind); call GetFlightInfo again`);
      }
      let rows = 0;
      for (let i = segments.from; i < segments.to; i++) rows += r.dataset.segments[i]?.rows ?? 0;
      yield* r.dataset.messages({ signal: call.signal, allocate, cached: true, segments });
      counted(rows);
      return;
    }
    if (!r.view) {
      yield* r.dataset.messages({ signal: call.signal, allocate, cached: true });
      counted((await r.dataset.stats()).records);
      return;
    }
    const run = await this.requireEngine(r).query({ owner: principalKey(principal), tables: [r.stream], sql: wholeTable(r.name), signal: call.signal, deadline: call.deadline });
    try {
      yield* run.messages();
    } finally {
      counted(run.rows);
      await run.close();
    }
  }

  private requireEngine(r: ReadableDataset): SqlEngine {
    if (!this.engine) {
      throw failedPrecondition(`dataset "${r.name}" is shown to you through a row or column policy, which the SQL engine applies, and it is disabled on this server (sql.enabled)`);
    }
    return this.engine;
  }

  private async scope(principal: Principal, name: string): Promise<ReadScope | undefined> {
    if (this.access.readScope) return this.access.readScope(principal, name);
    return (await this.access.may(principal, 'read', name)) ? { kind: 'all', grants: [] } : undefined;
  }

  private async withScope(principal: Principal, dataset: Dataset, scope: ReadScope): Promise<ReadableDataset> {
    if (scope.kind === 'all') {
      const whole = { name: dataset.name, dataset };
      return { name: dataset.name, dataset, grants: scope.grants, table: whole, stream: whole };
    }
    const schema = await dataset.schema();
    const restrictions: GrantRestriction[] = [];
    const caller = { principal: principal.id, roles: principal.roles, ...(principal.claims ? { claims: principal.claims } : {}) };
    for (const g of scope.grants) {
      const c = await this.compile(dataset.name, schema, g);
      restrictions.push({ id: g.id, columns: c.columns, ...(c.template ? { filter: renderFilter(c.template, caller) } : {}) });
    }
    const view = viewDefinition(schema.fields, restrictions);
    const plain = viewDefinition(schema.fields, restrictions, { guard: false });
    const table = (v: ViewDefinition): SqlTable => ({ name: dataset.name, dataset, view: { select: v.select, ...(v.where ? { where: v.where } : {}), usesMaskKey: v.usesMaskKey, grants: v.grants } });
    return { name: dataset.name, dataset, grants: view.grants, view, table: table(view), stream: table(plain) };
  }

  /** A grant's policy checked against this version of the dataset (once per version). */
  private compile(dataset: string, schema: Schema, g: RestrictedGrant): Promise<CompiledGrant> {
    let bySchema = this.compiled.get(schema);
    if (!bySchema) this.compiled.set(schema, (bySchema = new Map()));
    const key = JSON.stringify([g.id, g.policy.rows ?? null, g.policy.columns ?? {}]);
    let hit = bySchema.get(key);
    if (!hit) {
      if (bySchema.size >= MAX_COMPILED_PER_SCHEMA) bySchema.delete(bySchema.keys().next().value!);
      hit = this.compileNow(dataset, schema, g).catch((err: unknown) => {
        bySchema.delete(key);
        throw err;
      });
      bySchema.set(key, hit);
    }
    return hit;
  }

  private async compileNow(dataset: string, schema: Schema, g: RestrictedGrant): Promise<CompiledGrant> {
    try {
      if (g.policy.rows !== undefined && !this.engine) {
        throw failedPrecondition(`dataset "${dataset}" is shown to you through a row filter, which the SQL engine applies, and it is disabled on this server (sql.enabled)`);
      }
      return await compileGrantPolicy(this.engine, dataset, schema.fields, g.policy);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      // What the policy says is for operators (the log, `policy test`); the caller learns which grant.
      this.warn(`grant ${g.id} cannot be applied to dataset "${dataset}": ${err.message}`);
      throw failedPrecondition(`dataset "${dataset}" cannot be read: the row or column policy of grant ${g.id} does not fit it; an administrator must fix it (flightgate policy test shows why)`);
    }
  }
}

/** The parsing the engine does for policies. */
export type PolicyParser = Pick<SqlEngine, 'parseTree' | 'sqlOfTree'>;

/**
 * Checks a read policy against a dataset's fields (only its form when `fields` is undefined) and
 * compiles it; PolicyError names what does not fit. The same check serves grants and reads.
 */
export async function compileGrantPolicy(parser: PolicyParser | undefined, dataset: string, fields: readonly Field[] | undefined, policy: ReadPolicy): Promise<CompiledGrant> {
  const columns = fields ? compileColumns(fields, policy.columns ?? {}, dataset) : new Map<string, ColumnRule>();
  if (!fields) for (const [column, text] of Object.entries(policy.columns ?? {})) parseColumnRule(column, text);
  if (policy.rows === undefined) return { columns };
  if (!parser) throw new PolicyError('row filters need the SQL engine (sql.enabled)');
  const checked = checkFilterTree(await parser.parseTree(filterProbe(policy.rows)), fields, dataset);
  return { columns, template: filterTemplate(checked, await parser.sqlOfTree(checked.tree)) };
}

/** A policy's column rules by field name, each checked against the field's type. */
export function compileColumns(fields: readonly Field[], rules: Readonly<Record<string, string>>, dataset: string): Map<string, ColumnRule> {
  const out = new Map<string, ColumnRule>();
  for (const [column, text] of Object.entries(rules)) {
    const field = findField(fields, column);
    if (!field) throw new PolicyError(`the policy names column "${column}", which dataset "${dataset}" does not have (it has ${fields.map((f) => f.name).join(', ')})`);
    const rule = parseColumnRule(column, text);
    const misfit = ruleMisfit(field, rule);
    if (misfit) throw new PolicyError(misfit);
    out.set(field.name, rule);
  }
  return out;
}

const wholeTable = (name: string): string => `SELECT * FROM ${quoteIdentifier(name)}`;
