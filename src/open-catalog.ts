/**
 * The catalog the server serves: its dataset providers in order of precedence (declared files,
 * uploads, the embedding application's, the data directory), the upload store, and the demo data.
 */
import { join } from 'node:path';
import { Catalog } from './catalog/catalog.js';
import { DataDirectory } from './catalog/data-directory.js';
import type { DatasetProvider } from './catalog/dataset.js';
import { DeclaredFiles } from './catalog/declared-files.js';
import { seedDemo } from './catalog/demo.js';
import { ManagedStore } from './catalog/managed/managed-store.js';
import { fileSources } from './catalog/sources/index.js';
import type { Config } from './config/schema.js';
import type { Logger } from './logger.js';

export async function openCatalog(config: Config, dataDir: string, providers: readonly DatasetProvider[], logger: Logger): Promise<Catalog> {
  const uploads = new ManagedStore(join(dataDir, 'datasets'), config.durableWrites);
  const catalog = new Catalog({
    // Precedence on a name clash: declared files, uploads, the application's providers, discovered files.
    providers: [new DeclaredFiles(config.datasets, fileSources), uploads, ...providers, new DataDirectory(dataDir, fileSources)],
    uploads,
    onWarning: (m) => logger.warn(m),
  });
  await catalog.load();
  if (config.demo) {
    logger.info(`demo mode: seeding db1, db2 and numbers (${config.demoNumbersRows} rows) in ${dataDir}`);
    await seedDemo(catalog, dataDir, config.demoNumbersRows);
    await catalog.load();
  }
  return catalog;
}
