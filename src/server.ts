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
import type { AccessControl } from './flight/access.js';
import { FlightService } from './flight/service.js';
import { GrpcServer } from './flight/transport/server.js';
import { buildSecurity, type Security } from './security.js';
import { TicketCodec } from './flight/ticket.js';

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
  /**
   * Replaces authentication and authorization altogether (e.g. `allowAll` to embed the bare data
   * plane in tests and benchmarks). Without it, the registry and session store from the config are used.
   */
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
  let security: Security | undefined;
  if (!options.access) {
    security = await buildSecurity(config, logger);
  }
  const closeSecurity = async (): Promise<void> => {
    await security?.close().catch((err: unknown) => logger.error('closing the registry and session store failed', err));
  };
  const tls = config.tls && { cert: readTlsFile(config.tls.certFile, 'certificate'), key: readTlsFile(config.tls.keyFile, 'key') };
  const grpc = new GrpcServer({
    tls,
    maxReceiveMessageBytes: config.transport.maxMessageBytes,
    receiveWindowBytes: config.transport.receiveWindowBytes,
    maxConcurrentStreams: config.transport.maxConcurrentStreams,
    onInternalError: (method, err) => logger.error(`${method} failed`, err),
  });
  const audit = security?.audit;
  new FlightService({
    catalog,
    access: options.access ?? security!.access,
    advertisedUri: config.advertisedUri,
    ticketTtlMs: config.ticketTtlSeconds * 1000,
    tickets: security?.tickets ?? new TicketCodec(),
    onDataAccess: audit
      ? (e) => audit.record({ event: 'data.access', outcome: e.outcome === 'ok' ? 'ok' : 'error', principal: e.principal.id, method: e.principal.method, peer: e.peer, rpc: e.rpc, dataset: e.dataset, rows: e.rows, bytes: e.bytes, ...(e.mode ? { action: e.mode } : {}) })
      : undefined,
  }).bind(grpc);
  let address;
  try {
    address = await grpc.listen(config.host, config.port);
  } catch (err) {
    await closeSecurity();
    throw err;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    host: address.address,
    port: address.port,
    uri: `${tls ? 'grpc+tls' : 'grpc'}://${host}:${address.port}`,
    catalog,
    activeCalls: () => grpc.activeCalls,
    close: async (graceMs = config.shutdownGraceSeconds * 1000) => {
      await grpc.close(graceMs);
      await closeSecurity();
    },
  };
}
