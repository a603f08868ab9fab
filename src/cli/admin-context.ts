/**
 * What the administration commands share: the configuration (the same --config, --data-dir and
 * FLIGHTGATE_* environment as `serve`), the registry, and the session store when it is shared
 * (Redis), so that changes end sessions on every server at once.
 */
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { UserAdmin } from '../auth/user-admin.js';
import { openConfiguredRegistry, openConfiguredSharedStores } from '../security.js';
import type { Registry } from '../stores/registry.js';
import type { SessionStore } from '../stores/session-store.js';

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const COMMON_HELP = `  --data-dir DIR   the data directory holding the SQLite registry (default ./flightgate-data)
  --config FILE    the server's configuration file
  --json           machine-readable output
  FLIGHTGATE_DATABASE_URL and FLIGHTGATE_REDIS_URL select PostgreSQL and Redis, as for 'serve'.`;

export interface AdminContext {
  config: Config;
  registry: Registry;
  admin: UserAdmin;
  /**
   * Waits out the servers' caches of users, clients and API keys (auth.registryCacheMs,
   * tokens.apiKeyCacheMs): once it returns, no server sharing the registry still accepts a
   * credential this command disabled, revoked or replaced.
   */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const quietLogger = { info: () => undefined, warn: (m: string) => console.error(`warning: ${m}`) };

export async function openAdmin(values: { config?: string; 'data-dir'?: string }): Promise<AdminContext> {
  const config = loadConfig({ file: values.config, overrides: { dataDir: values['data-dir'] } });
  const registry = await openConfiguredRegistry(config, quietLogger);
  // Sessions kept in a server's memory cannot be reached from here; the registry's
  // sessions-not-before stamp ends those within the server's cache time instead.
  const shared = config.redisUrl ? openConfiguredSharedStores(config, quietLogger) : undefined;
  // Connect before changing anything, so a change never lands in the registry but not in Redis.
  if (shared) {
    await shared.ready().catch(async (err: unknown) => {
      await shared.close();
      await registry.close();
      throw err;
    });
  }
  const sessions: SessionStore | undefined = shared?.sessions;
  return {
    config,
    registry,
    admin: new UserAdmin(registry, sessions),
    async settle() {
      const ms = Math.max(config.auth.registryCacheMs, config.tokens.apiKeyCacheMs);
      // A little over the window: a server may have read the old row just before the change.
      if (ms > 0) await new Promise((r) => setTimeout(r, ms + 50));
    },
    async close() {
      await shared?.close();
      await registry.close();
    },
  };
}

/** Prints `value` as JSON with --json, else the human text. */
export function output(json: boolean | undefined, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}
