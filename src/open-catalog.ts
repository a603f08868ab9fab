/**
 * The catalog the server serves: its dataset providers in order of precedence (declared files,
 * uploads, the embedding application's, the data directory), the upload store, and the demo data.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogRecord } from './catalog/managed/catalog-record.js';
import { PostgresCatalogRecord } from './catalog/shared/postgres-record.js';
import { ConfigError } from './config/load.js';
import { throttledWarning } from './core/throttled-warning.js';
import { Catalog } from './catalog/catalog.js';
import { DataDirectory } from './catalog/data-directory.js';
import type { DatasetProvider } from './catalog/dataset.js';
import { DeclaredFiles } from './catalog/declared-files.js';
import { seedDemo } from './catalog/demo.js';
import { ManagedStore } from './catalog/managed/managed-store.js';
import { fileSources } from './catalog/sources/index.js';
import type { Config } from './config/schema.js';
import type { Logger } from './logger.js';

/** The catalog of record for uploads: PostgreSQL when replicas share it, else the manifest files. */
async function openRecord(config: Config, root: string, logger: Logger): Promise<CatalogRecord | undefined> {
  const shared = config.catalog.shared ?? Boolean(config.databaseUrl);
  if (!shared) return undefined;
  if (!config.databaseUrl) throw new ConfigError('catalog.shared needs databaseUrl: the shared catalog lives in PostgreSQL');
  await mkdir(root, { recursive: true });
  return PostgresCatalogRecord.open({
    databaseUrl: config.databaseUrl,
    root,
    retainMs: (config.catalog.retainReplacedSeconds ?? config.ticketTtlSeconds + 3600) * 1000,
    refreshMs: config.catalog.refreshSeconds * 1000,
    heartbeatMs: config.catalog.heartbeatSeconds * 1000,
    replicaTimeoutMs: config.catalog.replicaTimeoutSeconds * 1000,
    ...(config.advertisedUri ? { location: config.advertisedUri } : {}),
    onError: throttledWarning((m) => logger.warn(m), 'shared catalog (PostgreSQL)'),
    onInfo: (m) => logger.info(m),
  });
}

export async function openCatalog(config: Config, dataDir: string, providers: readonly DatasetProvider[], logger: Logger): Promise<Catalog> {
  const root = join(dataDir, 'datasets');
  const record = await openRecord(config, root, logger);
  if (record) logger.info(`uploaded datasets: catalog of record in PostgreSQL, shared by the replicas of ${root} (this one is replica ${record.writerTag()})`);
  const uploads = new ManagedStore(root, config.durableWrites, record);
  const catalog = new Catalog({
    // Precedence on a name clash: declared files, uploads, the application's providers, discovered files.
    providers: [new DeclaredFiles(config.datasets, fileSources), uploads, ...providers, new DataDirectory(dataDir, fileSources)],
    uploads,
    onWarning: (m) => logger.warn(m),
  });
  try {
    await catalog.load();
    if (config.demo) {
      logger.info(`demo mode: seeding db1, db2 and numbers (${config.demoNumbersRows} rows) in ${dataDir}`);
      await seedDemo(catalog, dataDir, config.demoNumbersRows);
      await catalog.load();
    }
  } catch (err) {
    await uploads.close();
    throw err;
  }
  return catalog;
}
