/**
 * The composition root's part for the policy commands (`roles grant` with a policy, `roles show`,
 * `policy test`): the catalog as `serve` opens it (without seeding demo data), a small SQL engine
 * hashing with the servers' key, and the checks and preview of flight/policy-check.ts over them.
 */
import { resolve } from 'node:path';
import { configGrants } from './authz/config-grants.js';
import { grantId, Policy } from './authz/policy.js';
import type { Config } from './config/schema.js';
import type { Principal } from './core/principal.js';
import type { ReadPolicy } from './core/read-policy.js';
import { checkGrantPolicy, previewRead, type ReadPreview } from './flight/policy-check.js';
import { TicketCodec } from './flight/ticket.js';
import { openCatalog } from './open-catalog.js';
import { keyEncryptionKeySource } from './security.js';
import { DEFAULT_SQL_SETTINGS, SqlEngine } from './sql/engine.js';
import type { Registry, RoleRecord } from './stores/registry.js';
import { openKeyEncryptionKey } from './tokens/key-encryption.js';
import { ticketKey } from './tokens/ticket-key.js';

export type { ReadPreview };

async function withTools<T>(config: Config, registry: Registry, use: (t: { catalog: Awaited<ReturnType<typeof openCatalog>>; engine: SqlEngine }) => Promise<T>): Promise<T> {
  const warn = (m: string): void => console.error(`warning: ${m}`);
  const catalog = await openCatalog({ ...config, demo: false }, resolve(config.dataDir), [], { info: () => undefined, warn, error: (m) => console.error(m) });
  // The servers' key (derived from the ticket key in the registry), so previews show the pseudonyms users see.
  const columnHashKey = new TicketCodec(await ticketKey(registry.secrets, openKeyEncryptionKey(keyEncryptionKeySource(config)))).derive('column-mask-hash').toString('hex');
  const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, threads: 1, memoryLimit: '256MB', scanCacheBytes: 0, columnHashKey }, warn);
  try {
    return await use({ catalog, engine });
  } finally {
    await engine.close();
  }
}

/**
 * Checks a read policy as a server would apply it, against every dataset each pattern matches
 * now; throws PolicyError naming what does not fit. Returns the datasets checked.
 */
export function checkPolicyForGrant(config: Config, registry: Registry, patterns: readonly string[], policy: ReadPolicy): Promise<string[]> {
  return withTools(config, registry, async ({ catalog, engine }) => {
    const checked: string[] = [];
    for (const pattern of patterns) checked.push(...(await checkGrantPolicy(engine, catalog, pattern, policy)));
    return checked;
  });
}

/** What `principal` would read of `dataset` under the registry's and the config file's grants. */
export async function previewPolicy(config: Config, registry: Registry, principal: Principal, dataset: string, rows: number): Promise<ReadPreview> {
  const policy = new Policy([...(await registry.roles.grants()), ...configGrants(config.grants)]);
  return withTools(config, registry, ({ catalog, engine }) => previewRead({ catalog, engine, policy, principal, dataset, rows }));
}

export interface RoleGrantView {
  readonly id: string;
  readonly dataset: string;
  readonly action: string;
  readonly source: 'registry' | 'config';
  readonly policy?: ReadPolicy;
}

/** A role's grants, from the registry and from the config file, with their ids and policies. */
export function roleGrants(config: Config, role: RoleRecord): RoleGrantView[] {
  return [
    ...role.grants.map((g) => ({ id: grantId(g), dataset: g.pattern, action: g.action, source: 'registry' as const, ...(g.policy ? { policy: g.policy } : {}) })),
    ...configGrants(config.grants.filter((g) => g.role === role.name)).map((g) => ({
      id: grantId(g), dataset: g.pattern, action: g.action, source: 'config' as const, ...(g.policy ? { policy: g.policy } : {}),
    })),
  ];
}
