/** `flightgate roles …`: create, delete, grant, revoke, assign, unassign, list. */
import { parseArgs } from 'node:util';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { UsageError } from './usage-error.js';

export const ROLES_USAGE = `usage: flightgate roles <create|delete|grant|revoke|assign|unassign|list> [ROLE] [USER] [options]

  roles create ROLE
  roles delete ROLE
  roles grant ROLE --dataset PATTERN --action A...    allow actions on datasets matching PATTERN
  roles revoke ROLE --dataset PATTERN [--action A]... remove those actions (all when none named)
  roles assign ROLE USER                              give USER the role
  roles unassign ROLE USER
  roles list                                          roles with their grants and members

  actions: list (see it in ListFlights), read (GetFlightInfo, GetSchema, DoGet; implies list),
           write (DoPut, drop), admin (all of them)
  PATTERN: a dataset name or a glob with * and ?, e.g. 'sales_*' (quote it for the shell)
${COMMON_HELP}`;

export async function rolesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, dataset: { type: 'string', multiple: true }, action: { type: 'string', multiple: true } },
    allowPositionals: true,
    strict: true,
  });
  const [command, role, user, ...extra] = positionals;
  if (values.help || command === undefined) {
    console.log(ROLES_USAGE);
    return values.help ? 0 : 2;
  }
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!['create', 'delete', 'grant', 'revoke', 'assign', 'unassign', 'list'].includes(command)) {
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
      case 'grant':
        await ctx.admin.grant(needRole(), values.dataset ?? [], values.action ?? []);
        output(values.json, { role, datasets: values.dataset, actions: values.action }, `role ${role} may now ${values.action!.join(', ')} ${values.dataset!.join(', ')}`);
        break;
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
            const grants = [...byPattern].map(([p, a]) => `${a.join('+')} on ${p}`).join('; ') || 'no grants';
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
