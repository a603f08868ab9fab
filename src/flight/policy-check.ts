/**
 * What operators use before users meet a policy: the check a grant passes before it is stored
 * (its filter parses and calls only what is allowed, its columns exist in every dataset the
 * pattern matches now and its masks fit their types), and a preview of what one caller would
 * see of a dataset. Both go through the very code that serves reads (read-access.ts).
 */
import { tableFromIPC, type Schema, type Table } from 'apache-arrow';
import { compilePattern } from '../authz/pattern.js';
import type { Policy } from '../authz/policy.js';
import { PolicyError, type ReadPolicy } from '../core/read-policy.js';
import type { Catalog } from '../catalog/catalog.js';
import { permissionDenied } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { encapsulate } from '../ipc/message.js';
import type { SqlEngine } from '../sql/engine.js';
import { compileGrantPolicy, ReadAccess, type PolicyParser } from './read-access.js';

/**
 * Throws PolicyError unless `policy` fits every dataset `pattern` matches now; returns their
 * names. A pattern that matches none yet has its form checked (datasets added later are
 * checked when read: a policy that does not fit them refuses the read).
 */
export async function checkGrantPolicy(parser: PolicyParser | undefined, catalog: Catalog, pattern: string, policy: ReadPolicy): Promise<string[]> {
  await compileGrantPolicy(parser, pattern, undefined, policy);
  const matches = compilePattern(pattern);
  const checked: string[] = [];
  for (const ds of await catalog.list()) {
    if (!matches(ds.name)) continue;
    try {
      await compileGrantPolicy(parser, ds.name, (await ds.schema()).fields, policy);
    } catch (err) {
      if (err instanceof PolicyError) throw new PolicyError(`dataset "${ds.name}": ${err.message}`);
      throw err;
    }
    checked.push(ds.name);
  }
  return checked;
}

export interface ReadPreview {
  readonly dataset: string;
  /** The grants that let the caller read it. */
  readonly grants: readonly string[];
  readonly restricted: boolean;
  /** The row filter as it applies to this caller (absent: every row). */
  readonly rowFilter?: string;
  readonly hidden: readonly string[];
  readonly masked: readonly string[];
  readonly schema: Schema;
  /** The first rows the caller would read. */
  readonly rows: Table;
}

/** What `principal` would read of `dataset` under `policy`, as a server applies it. */
export async function previewRead(o: { catalog: Catalog; engine: SqlEngine; policy: Policy; principal: Principal; dataset: string; rows: number }): Promise<ReadPreview> {
  const decisions = {
    authorize: async (p: Principal, action: 'list' | 'read' | 'write' | 'admin', name: string) => {
      if (!o.policy.allows(p.roles, action, name)) throw permissionDenied(`"${p.id}" may not ${action} dataset "${name}" (no grant of the roles ${p.roles.join(', ') || '(none)'} allows it)`);
    },
    may: async (p: Principal, action: 'list' | 'read' | 'write' | 'admin', name: string) => o.policy.allows(p.roles, action, name),
    readScope: async (p: Principal, name: string) => o.policy.readScope(p.roles, name),
  };
  const reads = new ReadAccess(o.catalog, decisions, o.engine, () => {});
  await decisions.authorize(o.principal, 'read', o.dataset);
  const r = await reads.readable(o.principal, await o.catalog.get(o.dataset));
  if (!r) throw permissionDenied(`"${o.principal.id}" may not read dataset "${o.dataset}"`);
  const parts: Uint8Array[] = [];
  const context = { signal: new AbortController().signal, deadline: undefined };
  for await (const m of reads.messages(r, o.principal, context, (n) => new Uint8Array(n), () => {})) {
    parts.push(encapsulate({ header: m.header, body: m.body }));
    m.release?.();
    // The schema and enough batches for the rows asked for.
    if (parts.length > 1 && tableFromIPC(Buffer.concat([...parts, END])).numRows >= o.rows) break;
  }
  const table = tableFromIPC(Buffer.concat([...parts, END]));
  return {
    dataset: o.dataset,
    grants: r.grants,
    restricted: r.view !== undefined,
    ...(r.view?.where ? { rowFilter: r.view.where } : {}),
    hidden: r.view?.hidden ?? [],
    masked: r.view?.masked ?? [],
    schema: table.schema,
    rows: table.slice(0, o.rows),
  };
}

const END = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
