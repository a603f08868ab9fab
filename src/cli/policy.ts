/** `flightgate policy test`: what one caller would read of a dataset, as a server would show it. */
import { parseArgs } from 'node:util';
import type { Table } from 'apache-arrow';
import { FlightgateError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { PolicyError } from '../core/read-policy.js';
import { previewPolicy } from '../policy-admin.js';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { UsageError } from './usage-error.js';

export const POLICY_USAGE = `usage: flightgate policy test (--user USER | --roles R1,R2) [--claims JSON] --dataset NAME [--rows N]

  Prints what the caller would read of the dataset through every path (DoGet, GetSchema, Flight
  SQL): the grants that apply, the row filter as it applies to them, the hidden and masked
  columns, the schema and the first rows.

  --user USER      a local user (their roles come from the registry)
  --roles R1,R2    or roles directly, as an IdP's groups map them
  --claims JSON    the claims of the caller's token, for claim('NAME'), e.g. '{"tenant": "acme"}'
  --principal ID   the caller's id for principal() with --roles (default: "tester")
  --rows N         how many rows to show (default 10)
${COMMON_HELP}`;

export async function policyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...COMMON_OPTIONS,
      user: { type: 'string' },
      roles: { type: 'string' },
      claims: { type: 'string' },
      principal: { type: 'string' },
      dataset: { type: 'string' },
      rows: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, ...extra] = positionals;
  if (values.help || command === undefined) {
    console.log(POLICY_USAGE);
    return values.help ? 0 : 2;
  }
  if (command !== 'test') throw new UsageError(`unknown policy command "${command}"\n${POLICY_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!values.dataset) throw new UsageError('policy test needs --dataset NAME');
  if ((values.user === undefined) === (values.roles === undefined)) throw new UsageError('policy test needs --user USER or --roles R1,R2 (one of them)');
  const rows = values.rows === undefined ? 10 : Number(values.rows);
  if (!Number.isInteger(rows) || rows < 0 || rows > 10_000) throw new UsageError('--rows takes a whole number from 0 to 10000');
  let claims: Record<string, unknown> | undefined;
  if (values.claims !== undefined) {
    try {
      claims = JSON.parse(values.claims) as Record<string, unknown>;
    } catch {
      throw new UsageError('--claims takes a JSON object, e.g. \'{"tenant": "acme"}\'');
    }
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new UsageError('--claims takes a JSON object, e.g. \'{"tenant": "acme"}\'');
  }
  const ctx = await openAdmin(values);
  try {
    let principal: Principal;
    if (values.user !== undefined) {
      const user = await ctx.registry.users.get(values.user);
      if (!user) throw new UsageError(`no user "${values.user}"`);
      principal = { id: user.name, kind: 'user', method: 'policy-test', roles: user.roles, ...(claims ? { claims } : {}) };
    } else {
      const roles = values.roles!.split(',').map((r) => r.trim()).filter(Boolean);
      principal = { id: values.principal ?? 'tester', kind: 'external', method: 'policy-test', roles, ...(claims ? { claims } : {}) };
    }
    try {
      const preview = await previewPolicy(ctx.config, ctx.registry, principal, values.dataset, rows);
      const fields = preview.schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
      const records = plainRows(preview.rows);
      const text = [
        `${principal.id} (roles: ${principal.roles.join(', ') || 'none'}) reads dataset ${preview.dataset} through ${preview.grants.join(', ') || 'no named grant'}`,
        preview.restricted ? `  rows: ${preview.rowFilter ?? 'all'}` : '  the whole dataset: no row or column policy applies',
        ...(preview.hidden.length ? [`  hidden: ${preview.hidden.join(', ')}`] : []),
        ...(preview.masked.length ? [`  masked: ${preview.masked.join(', ')}`] : []),
        `  schema: ${fields.map((f) => `${f.name} ${f.type}`).join(', ')}`,
        `  first ${records.length} row(s):`,
        ...records.map((r) => `    ${JSON.stringify(r)}`),
      ].join('\n');
      output(values.json, { principal: principal.id, roles: principal.roles, ...preview, schema: fields, rows: records }, text);
    } catch (err) {
      if (err instanceof FlightgateError) throw new UsageError(`${err.statusName}: ${err.message}`);
      if (err instanceof PolicyError) throw new UsageError(err.message);
      throw err;
    }
    return 0;
  } finally {
    await ctx.close();
  }
}

/** Rows as JSON can hold them (64-bit integers as numbers when exact, else text). */
function plainRows(table: Table): Record<string, unknown>[] {
  return table.toArray().map((row: { toJSON(): Record<string, unknown> }) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row.toJSON())) out[k] = plainValue(v);
    return out;
  });
}

function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof Date) return v.toISOString();
  return v;
}
