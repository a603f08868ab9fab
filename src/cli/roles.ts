/** `flightgate roles …`: create, delete, grant, revoke, assign, unassign, list. */
import { parseArgs } from 'node:util';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { PolicyError, type ReadPolicy } from '../core/read-policy.js';
import { checkPolicyForGrant, roleGrants } from '../policy-admin.js';
import { UsageError } from './usage-error.js';

export const ROLES_USAGE = `usage: flightgate roles <create|delete|grant|revoke|assign|unassign|list|show> [ROLE] [USER] [options]

  roles create ROLE
  roles delete ROLE
  roles grant ROLE --dataset PATTERN --action A...    allow actions on datasets matching PATTERN
        [--rows EXPR] [--hide COL]... [--mask COL=RULE]...
                                                      a read grant may show only some rows and
                                                      hide or mask columns (see below)
  roles revoke ROLE --dataset PATTERN [--action A]... remove those actions (all when none named)
  roles assign ROLE USER                              give USER the role
  roles unassign ROLE USER
  roles list                                          roles with their grants and members
  roles show ROLE                                     one role: its grants with their policies

  actions: list (see it in ListFlights), read (GetFlightInfo, GetSchema, DoGet, SQL; implies list),
           write (DoPut, drop), admin (all of them, every row and column)
  PATTERN: a dataset name or a glob with * and ?, e.g. 'sales_*' (quote it for the shell)
  --rows EXPR   a SQL condition over the dataset's columns; rows where it is not true are left
                out. It may use principal(), roles(), has_role('R') and claim('NAME') (a claim of
                the caller's token; NULL when absent), e.g. "region = 'EU'",
                "tenant_id = claim('tenant')", "owner = principal() OR has_role('auditor')".
  --hide COL    the column is absent from what the role reads
  --mask COL=RULE  null, redact (text → ****), hash (a keyed pseudonym: equal values stay equal),
                last4 (last1…last9: only the last characters of text), truncate:UNIT (dates and
                timestamps to year, quarter, month, week, day, hour or minute)
  Granting read again replaces the read grant's policy (no --rows/--hide/--mask: the whole dataset).
  Several read grants of a caller combine: a row shows if any shows it, as the most open of those.
${COMMON_HELP}`;

export async function rolesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...COMMON_OPTIONS,
      dataset: { type: 'string', multiple: true },
      action: { type: 'string', multiple: true },
      rows: { type: 'string' },
      hide: { type: 'string', multiple: true },
      mask: { type: 'string', multiple: true },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, role, user, ...extra] = positionals;
  if (values.help || command === undefined) {
    console.log(ROLES_USAGE);
    return values.help ? 0 : 2;
  }
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!['create', 'delete', 'grant', 'revoke', 'assign', 'unassign', 'list', 'show'].includes(command)) {
    throw new UsageError(`unknown roles command "${command}"\n${ROLES_USAGE}`);
  }
  const needRole = (): string => {
    if (!role) throw new UsageError(`roles ${command} needs a role name`);
    return role;
  };
  const needUser = (): string => {
    if (!user) throw new UsageError(`roles ${command} needs a role and a user name`);
    return user;
  };
  if (command !== 'assign' && command !== 'unassign' && user !== undefined) throw new UsageError(`unexpected argument: ${user}`);
  const policy = command === 'grant' ? policyOf(values) : undefined;
  if (command !== 'grant' && (values.rows !== undefined || values.hide || values.mask)) throw new UsageError('--rows, --hide and --mask go with roles grant');
  const ctx = await openAdmin(values);
  try {
    switch (command) {
      case 'create':
        await ctx.admin.createRole(needRole());
        output(values.json, { role, created: true }, `created role ${role}`);
        break;
      case 'delete':
        await ctx.admin.deleteRole(needRole());
        await ctx.settle();
        output(values.json, { role, deleted: true }, `deleted role ${role}`);
        break;
      case 'grant': {
        needRole();
        const checked: string[] = [];
        if (policy) {
          if (!(values.action ?? []).includes('read')) throw new UsageError('--rows, --hide and --mask restrict a read grant: add --action read');
          // Checked by the code that applies it, against the datasets the pattern matches now.
          try {
            checked.push(...(await checkPolicyForGrant(ctx.config, ctx.registry, values.dataset ?? [], policy)));
          } catch (err) {
            if (err instanceof PolicyError) throw new UsageError(`the policy is refused: ${err.message}`);
            throw err;
          }
        }
        await ctx.admin.grant(role!, values.dataset ?? [], values.action ?? [], policy);
        const what = policy ? ` (${describePolicy(policy)}; checked against ${checked.length ? checked.join(', ') : 'no dataset yet'})` : '';
        output(values.json, { role, datasets: values.dataset, actions: values.action, ...(policy ? { policy, checked } : {}) }, `role ${role} may now ${values.action!.join(', ')} ${values.dataset!.join(', ')}${what}`);
        break;
      }
      case 'show': {
        const r = (await ctx.admin.listRoles()).find((x) => x.name === needRole());
        if (!r) throw new UsageError(`no role "${role}"`);
        const grants = roleGrants(ctx.config, r);
        const text = [
          `role ${r.name}; members: ${r.members.join(', ') || 'none'}`,
          ...grants.map((g) => `  ${g.action} on ${g.dataset}${g.source === 'config' ? ' (config file)' : ''}${g.policy ? `: ${describePolicy(g.policy)}` : ''}   [${g.id}]`),
        ].join('\n');
        output(values.json, { role: r.name, members: r.members, grants }, grants.length ? text : `${text}\n  no grants`);
        break;
      }
      case 'revoke': {
        const n = await ctx.admin.revoke(needRole(), values.dataset ?? [], values.action ?? []);
        await ctx.settle();
        output(values.json, { role, removed: n }, `removed ${n} grant(s) from role ${role}`);
        break;
      }
      case 'assign':
        await ctx.admin.assignRole(needUser(), needRole());
        output(values.json, { role, user, assigned: true }, `${user} now has role ${role}`);
        break;
      case 'unassign':
        await ctx.admin.unassignRole(needUser(), needRole());
        await ctx.settle();
        output(values.json, { role, user, assigned: false }, `${user} no longer has role ${role}`);
        break;
      case 'list': {
        const roles = await ctx.admin.listRoles();
        const text = roles
          .map((r) => {
            const byPattern = new Map<string, string[]>();
            for (const g of r.grants) byPattern.set(g.pattern, [...(byPattern.get(g.pattern) ?? []), g.action]);
            const restricted = new Map(r.grants.filter((g) => g.policy).map((g) => [g.pattern, g.policy!]));
            const grants = [...byPattern].map(([p, a]) => `${a.join('+')} on ${p}${restricted.has(p) ? ` (${describePolicy(restricted.get(p)!)})` : ''}`).join('; ') || 'no grants';
            return `${r.name}: ${grants}; members: ${r.members.join(', ') || 'none'}`;
          })
          .join('\n');
        output(values.json, roles, text || 'no roles');
        break;
      }
    }
    return 0;
  } finally {
    await ctx.close();
  }
}

/** The read policy the grant flags describe, if any. */
function policyOf(values: { rows?: string; hide?: string[]; mask?: string[] }): ReadPolicy | undefined {
  const columns: Record<string, string> = {};
  for (const c of values.hide ?? []) columns[c] = 'hide';
  for (const m of values.mask ?? []) {
    const at = m.indexOf('=');
    if (at <= 0 || at === m.length - 1) throw new UsageError(`--mask takes COLUMN=RULE, e.g. email=hash (got ${JSON.stringify(m)})`);
    const column = m.slice(0, at);
    if (columns[column]) throw new UsageError(`column ${column} is named twice`);
    columns[column] = m.slice(at + 1);
  }
  if (values.rows === undefined && !Object.keys(columns).length) return undefined;
  return { ...(values.rows !== undefined ? { rows: values.rows } : {}), ...(Object.keys(columns).length ? { columns } : {}) };
}

/** A policy in one line: its filter and column rules. */
export function describePolicy(p: ReadPolicy): string {
  const parts: string[] = [];
  if (p.rows !== undefined) parts.push(`rows where ${p.rows}`);
  const cols = Object.entries(p.columns ?? {});
  const hidden = cols.filter(([, r]) => r === 'hide').map(([c]) => c);
  if (hidden.length) parts.push(`hides ${hidden.join(', ')}`);
  const masked = cols.filter(([, r]) => r !== 'hide').map(([c, r]) => `${c}=${r}`);
  if (masked.length) parts.push(`masks ${masked.join(', ')}`);
  return parts.join('; ');
}
