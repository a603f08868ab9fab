/** `flightgate apikeys …`: API keys (fgk_…) sent as `authorization: Bearer`. */
import { parseArgs } from 'node:util';
import { ApiKeyAdmin, parseDuration } from '../auth/api-key-admin.js';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { UsageError } from './usage-error.js';

export const APIKEYS_USAGE = `usage: flightgate apikeys <create|list|revoke> [NAME] [options]

  apikeys create NAME --role R... [--expires-in 90d]   prints the key, shown only this once
  apikeys list
  apikeys revoke NAME          every server sharing the registry refuses it when this returns

  --role R          a role the key carries (repeatable)
  --expires-in D    lifetime: a number with s, m, h or d (default: no expiry)
${COMMON_HELP}`;

export async function apiKeysCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_OPTIONS, role: { type: 'string', multiple: true }, 'expires-in': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, name, ...extra] = positionals;
  if (values.help || action === undefined) {
    console.log(APIKEYS_USAGE);
    return values.help ? 0 : 2;
  }
  if (!['create', 'list', 'revoke'].includes(action)) throw new UsageError(`unknown apikeys command "${action}"\n${APIKEYS_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (action !== 'list' && !name) throw new UsageError(`apikeys ${action} needs a key name`);
  const expiresIn = values['expires-in'] === undefined ? undefined : parseDuration(values['expires-in']);
  const ctx = await openAdmin(values);
  try {
    const admin = new ApiKeyAdmin(ctx.registry.apiKeys);
    switch (action) {
      case 'create': {
        const { key, view } = await admin.create(name!, values.role ?? [], expiresIn);
        output(values.json, { ...view, api_key: key }, `created API key ${view.name}${view.expires_at ? ` (expires ${view.expires_at})` : ''}\napi_key: ${key}\n(the key is shown only now; send it as: authorization: Bearer <key>)`);
        break;
      }
      case 'list': {
        const keys = await admin.list();
        const lines = keys.map((k) => `${k.name.padEnd(24)} ${k.state.padEnd(8)} ${(k.expires_at ?? 'never').padEnd(25)} ${k.roles.join(',')}`);
        output(values.json, keys, keys.length ? [`${'NAME'.padEnd(24)} ${'STATE'.padEnd(8)} ${'EXPIRES'.padEnd(25)} ROLES`, ...lines].join('\n') : 'no API keys');
        break;
      }
      case 'revoke':
        await admin.revoke(name!);
        await ctx.settle();
        output(values.json, { name, revoked: true }, `revoked API key ${name}`);
        break;
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
