/**
 * The composition root: builds every part from the configuration and starts it. The only
 * place that chooses implementations.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './config/load.js';
import { Catalog } from './catalog/catalog.js';
import { seedDemo } from './catalog/demo.js';
import { fileSources } from './catalog/sources/index.js';
import type { Config } from './config/schema.js';
import { allowAll, type AccessControl } from './flight/access.js';
import { FlightService } from './flight/service.js';
import { GrpcServer } from './flight/transport/server.js';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

export const consoleLogger: Logger = {
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
  error: (m, err) => console.error(`error: ${m}${err instanceof Error ? `: ${err.stack ?? err.message}` : ''}`),
};

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`tls: cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly uri: string;
  readonly catalog: Catalog;
  /** Calls in progress (for health checks and tests). */
  activeCalls(): number;
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  access?: AccessControl;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? consoleLogger;
  const dataDir = resolve(config.dataDir);
  const catalog = new Catalog({
    dataDir,
    sources: fileSources,
    declared: config.datasets,
    durableWrites: config.durableWrites,
    onWarning: (m) => logger.warn(m),
  });
  await catalog.load();
  if (config.demo) {
    logger.info(`demo mode: seeding db1, db2 and numbers (${config.demoNumbersRows} rows) in ${dataDir}`);
    await seedDemo(catalog, dataDir, config.demoNumbersRows);
    await catalog.load();
  }
  const tls = config.tls && { cert: readTlsFile(config.tls.certFile, 'certificate'), key: readTlsFile(config.tls.keyFile, 'key') };
  const grpc = new GrpcServer({
    tls,
    maxReceiveMessageBytes: config.transport.maxMessageBytes,
    receiveWindowBytes: config.transport.receiveWindowBytes,
    maxConcurrentStreams: config.transport.maxConcurrentStreams,
    onInternalError: (method, err) => logger.error(`${method} failed`, err),
  });
  new FlightService({
    catalog,
    access: options.access ?? allowAll,
    advertisedUri: config.advertisedUri,
    ticketTtlMs: config.ticketTtlSeconds * 1000,
  }).bind(grpc);
  const address = await grpc.listen(config.host, config.port);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    host: address.address,
    port: address.port,
    uri: `${tls ? 'grpc+tls' : 'grpc'}://${host}:${address.port}`,
    catalog,
    activeCalls: () => grpc.activeCalls,
    close: (graceMs = config.shutdownGraceSeconds * 1000) => grpc.close(graceMs),
  };
}
