/** `flightgate sessions revoke USER | --all`: ends sessions on every server sharing the registry. */
import { parseArgs } from 'node:util';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { UsageError } from './usage-error.js';

export const SESSIONS_USAGE = `usage: flightgate sessions revoke (USER | --all) [options]

  Ends the sessions of USER (or of every user). With Redis they end at once on every server;
  with in-memory sessions, servers refuse them within their registry cache time (1 s by default).
${COMMON_HELP}`;

export async function sessionsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, all: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [command, user, ...extra] = positionals;
  if (values.help || command === undefined) {
    console.log(SESSIONS_USAGE);
    return values.help ? 0 : 2;
  }
  if (command !== 'revoke') throw new UsageError(`unknown sessions command "${command}"\n${SESSIONS_USAGE}`);
  if (extra.length || (user === undefined) === !values.all) throw new UsageError('sessions revoke takes a user name or --all');
  const ctx = await openAdmin(values);
  try {
    await ctx.admin.revokeSessions(values.all ? undefined : user);
    output(values.json, { revoked: values.all ? '*' : user }, `sessions of ${values.all ? 'every user' : user} are revoked`);
    return 0;
  } finally {
    await ctx.close();
  }
}
