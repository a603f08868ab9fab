/**
 * The parts the policy commands need besides the registry: the catalog as `serve` would open it
 * (without seeding demo data) and a small SQL engine, the same that applies policies on reads.
 */
import { resolve } from 'node:path';
import { keyEncryptionKeySource } from '../security.js';
import type { Registry } from '../stores/registry.js';
import { TicketCodec } from '../flight/ticket.js';
import { openKeyEncryptionKey } from '../tokens/key-encryption.js';
import { ticketKey } from '../tokens/ticket-key.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Config } from '../config/schema.js';
import { openCatalog } from '../open-catalog.js';
import { DEFAULT_SQL_SETTINGS, SqlEngine } from '../sql/engine.js';

export interface PolicyTools {
  readonly catalog: Catalog;
  readonly engine: SqlEngine;
  close(): Promise<void>;
}

/** With `registry`, the engine hashes with the servers' key, so previews show the pseudonyms users see. */
export async function openPolicyTools(config: Config, registry?: Registry): Promise<PolicyTools> {
  const warn = (m: string): void => console.error(`warning: ${m}`);
  const catalog = await openCatalog({ ...config, demo: false }, resolve(config.dataDir), [], { info: () => undefined, warn, error: (m) => console.error(m) });
  const columnHashKey = registry
    ? new TicketCodec(await ticketKey(registry.secrets, openKeyEncryptionKey(keyEncryptionKeySource(config)))).derive('column-mask-hash').toString('hex')
    : undefined;
  const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, threads: 1, memoryLimit: '256MB', scanCacheBytes: 0, ...(columnHashKey ? { columnHashKey } : {}) }, warn);
  return { catalog, engine, close: () => engine.close() };
}
