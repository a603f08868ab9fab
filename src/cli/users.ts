/** `flightgate users …`: add, list, passwd, disable, enable, delete. */
import { parseArgs } from 'node:util';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { readPassword } from './password-input.js';
import { UsageError } from './usage-error.js';

export const USERS_USAGE = `usage: flightgate users <add|list|passwd|disable|enable|delete> [NAME] [options]

  users add NAME [--role R]...   create a user; the password is prompted for (or read from stdin)
  users list                     list users, their roles and whether they are disabled
  users passwd NAME              set a new password; ends the user's sessions
  users disable NAME             refuse the user's logins and end their sessions
  users enable NAME
  users delete NAME              delete the user and end their sessions

  --role R          a role to give the user (repeatable; create it first with 'roles create')
  --password-stdin  read the password from the first line of standard input
${COMMON_HELP}`;

export async function usersCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, role: { type: 'string', multiple: true }, 'password-stdin': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, name, ...extra] = positionals;
  if (values.help || action === undefined) {
    console.log(USERS_USAGE);
    return values.help ? 0 : 2;
  }
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const needName = (): string => {
    if (!name) throw new UsageError(`users ${action} needs a user name`);
    return name;
  };
  if (!['add', 'list', 'passwd', 'disable', 'enable', 'delete'].includes(action)) {
    throw new UsageError(`unknown users command "${action}"\n${USERS_USAGE}`);
  }
  // Read the password before opening anything, so a prompt is not left waiting on a database.
  const password = action === 'add' || action === 'passwd' ? await readPassword(needName(), values['password-stdin']) : undefined;
  const ctx = await openAdmin(values);
  try {
    switch (action) {
      case 'add': {
        const user = await ctx.admin.addUser(needName(), password!, values.role ?? []);
        output(values.json, user, `created user ${user.name}${user.roles.length ? ` with roles ${user.roles.join(', ')}` : ''}`);
        break;
      }
      case 'list': {
        const users = await ctx.admin.listUsers();
        const lines = users.map((u) => `${u.name.padEnd(24)} ${(u.disabled ? 'disabled' : 'enabled').padEnd(9)} ${u.roles.join(',') || '-'}`);
        output(values.json, users, users.length ? [`${'NAME'.padEnd(24)} ${'STATE'.padEnd(9)} ROLES`, ...lines].join('\n') : 'no users');
        break;
      }
      case 'passwd':
        await ctx.admin.setPassword(needName(), password!);
        await ctx.settle();
        output(values.json, { name, passwordChanged: true, sessionsEnded: true }, `password of ${name} changed; their sessions are ended`);
        break;
      case 'disable':
      case 'enable':
        await ctx.admin.setDisabled(needName(), action === 'disable');
        if (action === 'disable') await ctx.settle();
        output(values.json, { name, disabled: action === 'disable' }, `${name} ${action}d${action === 'disable' ? '; their sessions are ended' : ''}`);
        break;
      case 'delete':
        await ctx.admin.deleteUser(needName());
        await ctx.settle();
        output(values.json, { name, deleted: true }, `deleted user ${name}`);
        break;
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
