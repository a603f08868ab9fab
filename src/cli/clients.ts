/** `flightgate clients …`: OAuth clients for the client_credentials grant. */
import { parseArgs } from 'node:util';
import { ClientAdmin } from '../tokens/client-admin.js';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { UsageError } from './usage-error.js';

export const CLIENTS_USAGE = `usage: flightgate clients <add|list|rotate-secret|disable|enable|delete> [NAME] [options]

  clients add NAME --role R... [--scope S...]   create a client; prints its client_id and a
                                                generated client_secret, shown only this once
  clients list
  clients rotate-secret NAME|CLIENT_ID         a new secret (printed once); the old one stops
                                                working and the client's refresh tokens are revoked
  clients disable NAME|CLIENT_ID               refuse its authentication, revoke its refresh tokens
  clients enable NAME|CLIENT_ID
  clients delete NAME|CLIENT_ID

  --role R    a role the client's tokens carry (repeatable)
  --scope S   a scope the client may ask for (repeatable)
${COMMON_HELP}`;

export async function clientsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, role: { type: 'string', multiple: true }, scope: { type: 'string', multiple: true } },
    allowPositionals: true,
    strict: true,
  });
  const [action, name, ...extra] = positionals;
  if (values.help || action === undefined) {
    console.log(CLIENTS_USAGE);
    return values.help ? 0 : 2;
  }
  if (!['add', 'list', 'rotate-secret', 'disable', 'enable', 'delete'].includes(action)) throw new UsageError(`unknown clients command "${action}"\n${CLIENTS_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (action !== 'list' && !name) throw new UsageError(`clients ${action} needs a client name or client_id`);
  if (action === 'add' && !values.role?.length) throw new UsageError('clients add needs at least one --role');
  const ctx = await openAdmin(values);
  try {
    const admin = new ClientAdmin(ctx.registry.clients, ctx.registry.refreshTokens);
    switch (action) {
      case 'add': {
        const { client, clientSecret } = await admin.add(name!, values.role ?? [], values.scope ?? []);
        output(
          values.json,
          { client_id: client.client_id, client_secret: clientSecret },
          `created client ${client.name}\nclient_id:     ${client.client_id}\nclient_secret: ${clientSecret}\n(the secret is shown only now; store it safely)`,
        );
        break;
      }
      case 'list': {
        const clients = await admin.list();
        const lines = clients.map((c) => `${c.client_id.padEnd(36)} ${(c.disabled ? 'disabled' : 'enabled').padEnd(9)} ${c.roles.join(',') || '-'}  ${c.scopes.join(' ') || '-'}`);
        output(values.json, clients, clients.length ? [`${'CLIENT_ID'.padEnd(36)} ${'STATE'.padEnd(9)} ROLES  SCOPES`, ...lines].join('\n') : 'no clients');
        break;
      }
      case 'rotate-secret': {
        const { client, clientSecret } = await admin.rotateSecret(name!);
        await ctx.settle();
        output(values.json, { client_id: client.client_id, client_secret: clientSecret }, `new secret for ${client.client_id}\nclient_secret: ${clientSecret}\n(the old secret no longer works)`);
        break;
      }
      case 'disable':
      case 'enable': {
        const client = await admin.setDisabled(name!, action === 'disable');
        if (action === 'disable') await ctx.settle();
        output(values.json, client, `client ${client.client_id} ${action}d`);
        break;
      }
      case 'delete': {
        const client = await admin.delete(name!);
        await ctx.settle();
        output(values.json, { client_id: client.client_id, deleted: true }, `deleted client ${client.client_id}`);
        break;
      }
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
