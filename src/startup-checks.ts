/**
 * What the server says at start about its users and mappings: demo users and their public
 * passwords, an empty registry (and how to create the first administrator), role mappings that
 * name roles that do not exist. Checks only; nothing here decides anything.
 */
import { DEMO_USERS, seedDemoUsers } from './auth/demo-users.js';
import type { Config } from './config/schema.js';
import type { Registry } from './stores/registry.js';

export interface StartupLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Seeds the demo users (demo mode), or tells how to create the first administrator (empty registry). */
export async function reportUsers(config: Config, registry: Pick<Registry, 'users' | 'roles'>, logger: StartupLogger): Promise<void> {
  if (config.demo) {
    const created = await seedDemoUsers(registry);
    const list = DEMO_USERS.map((u) => u.name).join(', ');
    // The passwords are in the README; even public ones stay out of logs.
    logger.warn(
      `DEMO MODE: the demo users ${list} exist in this registry with PUBLIC passwords (see the README)${created.length ? `; created now: ${created.join(', ')}` : ''}. Never expose a demo server.`,
    );
  } else if ((await registry.users.count()) === 0) {
    logger.warn(
      'the user registry is empty, so nobody can log in. Create the first administrator:\n' +
        '  flightgate roles create admins\n' +
        "  flightgate roles grant admins --dataset '*' --action admin\n" +
        '  flightgate users add alice --role admins        (prompts for the password)\n' +
        `(with the same --data-dir${config.databaseUrl ? ' and FLIGHTGATE_DATABASE_URL' : ''} as the server)`,
    );
  }
}

/** Role mappings (client certificates, IdP groups) that name roles that do not exist grant nothing: say so. */
export async function reportRoleMappings(config: Config, registry: Pick<Registry, 'roles'>, logger: StartupLogger): Promise<void> {
  const mappedRoles = config.tls?.clientPrincipals.flatMap((p) => p.roles) ?? [];
  const issuers = config.oidc.issuers;
  if (!issuers.length && !mappedRoles.length) return;
  const known = new Set((await registry.roles.list()).map((r) => r.name));
  const missingMapped = [...new Set(mappedRoles)].filter((r) => !known.has(r));
  if (missingMapped.length) logger.warn(`tls.clientPrincipals names roles that do not exist: ${missingMapped.join(', ')} (create them with 'flightgate roles create')`);
  for (const issuer of issuers) {
    logger.info(`accepting access tokens from ${issuer.issuer} (audience ${issuer.audience})`);
    const missing = [...new Set(Object.values(issuer.roleMap).flat())].filter((r) => !known.has(r));
    if (missing.length) logger.warn(`oidc issuer ${issuer.issuer}: roleMap names roles that do not exist: ${missing.join(', ')} (create them with 'flightgate roles create')`);
  }
}
