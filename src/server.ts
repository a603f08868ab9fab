/**
 * The composition root, in small parts: this file starts the server from its configuration
 * (open-catalog.ts assembles the datasets, control-plane.ts the HTTP service and security.ts the
 * authentication behind it, with the factories beside each port). No module outside these
 * chooses an implementation.
 */
import { join, resolve } from 'node:path';
import { FlightgateMetrics } from './audit/flightgate-metrics.js';
import type { BearerKind } from './auth/bearer-router.js';
import type { DatasetProvider } from './catalog/dataset.js';
import type { Catalog } from './catalog/catalog.js';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config, ConfigInput } from './config/schema.js';
import { looseModes, restrictNewFiles } from './core/private-files.js';
import { statusName } from './core/status.js';
import { openControlPlane, type ControlPlane } from './control-plane.js';
import type { AccessControl } from './flight/access.js';
import type { ActionDefinition } from './flight/actions.js';
import type { FlightCommand } from './flight/commands.js';
import { FlightService } from './flight/service.js';
import { TicketCodec } from './flight/ticket.js';
import { GrpcServer } from './flight/transport/server.js';
import { consoleLogger, type Logger } from './logger.js';
import { openCatalog } from './open-catalog.js';
import { ReadAccess } from './flight/read-access.js';
import type { Principal } from './core/principal.js';
import { PostgresCatalogRecord } from './catalog/shared/postgres-record.js';
import { fileBodies } from './ipc/body-cache.js';
import { memorySizeBytes } from './sql/memory-size.js';
import { checkGrantPolicy } from './flight/policy-check.js';
import { PolicyError } from './core/read-policy.js';
import { openSql, type OpenedSql } from './open-sql.js';
import { loadTls } from './tls/tls-material.js';

export type { Logger } from './logger.js';
export { consoleLogger, jsonLogger, loggerFor } from './logger.js';

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly uri: string;
  /** The token service's base URL (also our tokens' issuer unless configured), when security is on. */
  readonly httpUri?: string;
  /** Where GET /metrics is served when it has a listener of its own (metrics.listen). */
  readonly metricsUri?: string;
  readonly catalog: Catalog;
  /** Calls in progress (for health checks and tests). */
  activeCalls(): number;
  /**
   * Re-reads the TLS files (certificate, key, client CA, CRL) for new connections (SIGHUP).
   * Throws ConfigError, keeping the current ones, when the new files cannot be used.
   */
  reloadTls(): void;
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /**
   * Replaces authentication and authorization altogether (e.g. `allowAll` to embed the bare data
   * plane in tests and benchmarks). Without it, the registry and session store from the config are used.
   */
  access?: AccessControl;
  /** Bearer token kinds besides sessions, API keys and JWTs, each recognised by its shape (`accepts`). */
  authenticators?: readonly BearerKind[];
  /** Dataset providers besides the files and uploads (asked after the uploads, before the data directory). */
  providers?: readonly DatasetProvider[];
  /** CMD commands to add to the built-in ones (see flight/commands.ts). */
  commands?: readonly FlightCommand[];
  /** DoAction types to add to the built-in ones. */
  actions?: readonly ActionDefinition[];
}

/** The embedding form of `startServer`: settings as the config file takes them, and the extensions. */
export interface EmbeddedServerOptions extends StartOptions {
  /** Settings, as in the config file (defaults for the rest; the environment is not read). */
  readonly config?: ConfigInput;
}

/**
 * Starts flightgate: `startServer(config, options)` with a parsed configuration (what `serve`
 * does), or `startServer({ config, providers, authenticators, actions, commands })` to embed it.
 */
export async function startServer(config: Config, options?: StartOptions): Promise<RunningServer>;
export async function startServer(options: EmbeddedServerOptions): Promise<RunningServer>;
export async function startServer(first: Config | EmbeddedServerOptions, second: StartOptions = {}): Promise<RunningServer> {
  if (isEmbedded(first)) {
    const { config: input, ...options } = first;
    return start(loadConfig({ env: {}, overrides: input ?? {} }), options);
  }
  return start(first, second);
}

/** The config file's read policies, checked as `roles grant` checks them: a mistake stops the start. */
async function checkDeclaredPolicies(config: Config, sql: OpenedSql | undefined, catalog: Catalog): Promise<void> {
  for (const [i, g] of config.grants.entries()) {
    if (g.rows === undefined && !g.columns) continue;
    const where = `grants[${i}] (role ${g.role}, dataset ${g.dataset})`;
    if (!sql) throw new ConfigError(`${where}: row filters and column masks are applied by the SQL engine, and sql.enabled is false`);
    try {
      await checkGrantPolicy(sql.engine, catalog, g.dataset, { ...(g.rows !== undefined ? { rows: g.rows } : {}), ...(g.columns ? { columns: g.columns } : {}) });
    } catch (err) {
      if (err instanceof PolicyError) throw new ConfigError(`${where}: ${err.message}`);
      throw err;
    }
  }
}

function isEmbedded(value: Config | EmbeddedServerOptions): value is EmbeddedServerOptions {
  return !('port' in value && 'transport' in value);
}

async function start(config: Config, options: StartOptions): Promise<RunningServer> {
  const logger = options.logger ?? consoleLogger;
  const dataDir = resolve(config.dataDir);
  restrictNewFiles();
  for (const { path, mode } of looseModes([dataDir, ...['flightgate.db', 'flightgate.db-wal', 'flightgate.db-shm', 'key-encryption.key', 'datasets'].map((f) => join(dataDir, f))])) {
    logger.warn(`${path} is open to other users (mode ${mode}); it holds password hashes, keys or data: chmod go-rwx ${path}`);
  }
  const catalog = await openCatalog(config, dataDir, options.providers ?? [], logger);
  fileBodies.configure(memorySizeBytes(config.datasetCacheSize));
  const tls = config.tls && loadTls(config.tls);
  let control: ControlPlane | undefined;
  let grpc: GrpcServer | undefined;
  const metrics = new FlightgateMetrics({
    activeCalls: () => grpc?.activeCalls ?? 0,
    connections: () => grpc?.openConnections ?? 0,
    pendingBytes: () => grpc?.pendingBytes ?? 0,
    activeSessions: () => control?.security.sessionStore.count() ?? Promise.resolve(0),
  });
  // An application that brings its own access control runs the data plane alone.
  // The access page lists what its visitor may read, through the one read path (set once it exists).
  let reads: ReadAccess | undefined;
  let flightUri = '';
  const web = {
    datasets: async (principal: Principal) => {
      if (!reads) return [];
      const out = [];
      for (const r of await reads.list(principal)) {
        const schema = await reads.schema(r, principal).catch(() => undefined);
        if (schema) out.push({ name: r.name, columns: schema.fields.map((f) => ({ name: f.name, type: String(f.type) })) });
      }
      return out;
    },
    flightUri: () => config.advertisedUri ?? flightUri,
  };
  if (!options.access) {
    control = await openControlPlane({ config, logger, tls, metrics, authenticators: options.authenticators, web }).catch(async (err: unknown) => {
      await catalog.uploads.close();
      throw err;
    });
  }
  const security = control?.security;
  grpc = new GrpcServer({
    tls,
    maxReceiveMessageBytes: config.transport.maxMessageBytes,
    maxHandshakeBytes: config.transport.maxHandshakeBytes,
    maxRequestBytes: config.transport.maxRequestBytes,
    maxPendingRequestBytesPerConnection: config.transport.maxPendingRequestBytesPerConnection,
    maxPendingBytes: config.transport.maxPendingBytes,
    receiveWindowBytes: config.transport.receiveWindowBytes,
    maxConcurrentStreams: config.transport.maxConcurrentStreams,
    maxMetadataBytes: config.transport.maxMetadataBytes,
    idleTimeoutMs: config.transport.idleTimeoutSeconds * 1000,
    headersTimeoutMs: config.transport.headersTimeoutSeconds * 1000,
    firstMessageTimeoutMs: config.transport.firstMessageTimeoutSeconds * 1000,
    maxConnections: config.transport.maxConnections,
    maxConnectionsPerAddress: config.transport.maxConnectionsPerAddress,
    onInternalError: (method, err) => logger.error(`${method} failed`, err),
    onCallEnd: (rpc, status, seconds) => metrics.callEnded(rpc, statusName(status), seconds),
  });
  let address;
  let sql: OpenedSql | undefined;
  try {
    const access = options.access ?? security!.access;
    const tickets = security?.tickets ?? new TicketCodec();
    sql = openSql(config, dataDir, { catalog, access, tickets, logger });
    reads = sql?.reads ?? new ReadAccess(catalog, access, undefined);
    await checkDeclaredPolicies(config, sql, catalog);
    // Registering commands and actions can fail (a name given twice): nothing may be left open then.
    new FlightService({
      catalog,
      access,
      advertisedUri: config.advertisedUri,
      ticketTtlMs: config.ticketTtlSeconds * 1000,
      tickets,
      reads,
      ...(catalog.uploads.record instanceof PostgresCatalogRecord ? { replicaLocations: () => (catalog.uploads.record as PostgresCatalogRecord).locations() } : {}),
      commands: [...(sql ? [sql.command] : []), ...(options.commands ?? [])],
      actions: [...(sql?.actions ?? []), ...(options.actions ?? [])],
    }).bind(grpc);
    address = await grpc.listen(config.host, config.port);
  } catch (err) {
    await sql?.engine.close();
    await control?.close();
    await catalog.uploads.close();
    throw err;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  flightUri = `${tls ? 'grpc+tls' : 'grpc'}://${host}:${address.port}`;
  return {
    host: address.address,
    port: address.port,
    uri: `${tls ? 'grpc+tls' : 'grpc'}://${host}:${address.port}`,
    httpUri: control?.httpUri,
    metricsUri: control?.metricsUri,
    catalog,
    activeCalls: () => grpc.activeCalls,
    reloadTls: () => {
      if (!config.tls) throw new ConfigError('tls is not configured: there is nothing to reload');
      const fresh = loadTls(config.tls);
      grpc.updateTls(fresh);
      control?.updateTls(fresh);
    },
    close: async (graceMs = config.shutdownGraceSeconds * 1000) => {
      await grpc.close(graceMs);
      await sql?.engine.close();
      await control?.close();
      await catalog.uploads.close();
    },
  };
}
