/** `flightgate keys list|rotate`: the keys that sign our access tokens. */
import { parseArgs } from 'node:util';
import { keyEncryptionKeySource } from '../security.js';
import { openKeyEncryptionKey } from '../tokens/key-encryption.js';
import { KeyAdmin } from '../tokens/key-admin.js';
import { signingAlgorithm } from '../tokens/signing-keys.js';
import { COMMON_HELP, COMMON_OPTIONS, openAdmin, output } from './admin-context.js';
import { UsageError } from './usage-error.js';

export const KEYS_USAGE = `usage: flightgate keys <list|rotate> [options]

  keys list     signing keys: the one that signs, those still published in the JWKS, retired ones
  keys rotate   add a new signing key; the previous one stays in the JWKS until the tokens it
                signed have expired (token lifetime + key reload time + leeway)
${COMMON_HELP}
  The key-encryption key (tokens.keyEncryptionKey / FLIGHTGATE_KEY_ENCRYPTION_KEY) must be the server's.`;

export async function keysCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS }, allowPositionals: true, strict: true });
  const [action, ...extra] = positionals;
  if (values.help || action === undefined) {
    console.log(KEYS_USAGE);
    return values.help ? 0 : 2;
  }
  if (action !== 'list' && action !== 'rotate') throw new UsageError(`unknown keys command "${action}"\n${KEYS_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const ctx = await openAdmin(values);
  try {
    const t = ctx.config.tokens;
    const admin = new KeyAdmin(ctx.registry.signingKeys, openKeyEncryptionKey(keyEncryptionKeySource(ctx.config)));
    if (action === 'rotate') {
      const keepOldMs = (t.accessTokenLifetimeSeconds + t.keyReloadSeconds + t.clockLeewaySeconds + 60) * 1000;
      const key = await admin.rotate(signingAlgorithm(t.signingAlgorithm), keepOldMs);
      output(values.json, key, `new signing key ${key.kid} (${key.alg}); servers start signing with it within ${t.keyReloadSeconds} s; the previous key stays published for ${Math.round(keepOldMs / 1000)} s`);
    } else {
      const keys = await admin.list();
      const lines = keys.map((k) => `${k.kid.padEnd(32)} ${k.alg.padEnd(6)} ${k.state.padEnd(9)} ${k.created_at}  ${k.retire_at ?? '-'}`);
      output(values.json, keys, keys.length ? [`${'KID'.padEnd(32)} ${'ALG'.padEnd(6)} ${'STATE'.padEnd(9)} ${'CREATED'.padEnd(24)}  UNPUBLISHED AT`, ...lines].join('\n') : 'no signing keys yet (the server creates one on first start)');
    }
    return 0;
  } finally {
    await ctx.close();
  }
}
