/**
 * The composition root: builds every part from the configuration and starts it. The only
 * place that chooses implementations.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listenMetrics, type MetricsAccess } from './http/metrics-access.js';
import { looseModes, restrictNewFiles } from './core/private-files.js';
import type Fastify from 'fastify';
import { buildHttpApp } from './http/app.js';
import { FlightgateMetrics } from './audit/flightgate-metrics.js';
import { statusName } from './core/status.js';
import { Catalog } from './catalog/catalog.js';
import { DataDirectory } from './catalog/data-directory.js';
import type { DatasetProvider } from './catalog/dataset.js';
import { DeclaredFiles } from './catalog/declared-files.js';
import { ManagedStore } from './catalog/managed/managed-store.js';
import { seedDemo } from './catalog/demo.js';
import { fileSources } from './catalog/sources/index.js';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config, ConfigInput } from './config/schema.js';
import type { BearerKind } from './auth/bearer-router.js';
import { loadTls } from './tls/tls-material.js';
import type { AccessControl } from './flight/access.js';
import { FlightService } from './flight/service.js';
import type { FlightCommand } from './flight/commands.js';
import type { ActionDefinition } from './flight/actions.js';
import { GrpcServer, type TransportTls } from './flight/transport/server.js';
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

/** One JSON object per line on stderr, for log collectors: time, level, msg (and error). */
export const jsonLogger: Logger = {
  info: (m) => writeJsonLog('info', m),
  warn: (m) => writeJsonLog('warn', m),
  error: (m, err) => writeJsonLog('error', m, err),
};

function writeJsonLog(level: string, msg: string, err?: unknown): void {
  const line: Record<string, string> = { time: new Date().toISOString(), level, msg };
  if (err instanceof Error) line.error = err.stack ?? err.message;
  else if (err !== undefined) line.error = String(err);
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

export const loggerFor = (format: 'text' | 'json'): Logger => (format === 'json' ? jsonLogger : consoleLogger);

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
  const uploads = new ManagedStore(join(dataDir, 'datasets'), config.durableWrites);
  const catalog = new Catalog({
    // Precedence on a name clash: declared files, uploads, the application's providers, discovered files.
    providers: [new DeclaredFiles(config.datasets, fileSources), uploads, ...(options.providers ?? []), new DataDirectory(dataDir, fileSources)],
    uploads,
    onWarning: (m) => logger.warn(m),
  });
  await catalog.load();
  if (config.demo) {
    logger.info(`demo mode: seeding db1, db2 and numbers (${config.demoNumbersRows} rows) in ${dataDir}`);
    await seedDemo(catalog, dataDir, config.demoNumbersRows);
    await catalog.load();
  }
  const tls = config.tls && loadTls(config.tls);
  let security: Security | undefined;
  let http: HttpListener | undefined;
  let grpc: GrpcServer | undefined;
  const metrics = new FlightgateMetrics({
    activeCalls: () => grpc?.activeCalls ?? 0,
    connections: () => grpc?.openConnections ?? 0,
    pendingBytes: () => grpc?.pendingBytes ?? 0,
    activeSessions: () => security?.sessionStore.count() ?? Promise.resolve(0),
  });
  let metricsListener: { server: Server; uri: string } | undefined;
  if (!options.access) {
    const route: MetricsRoute = { render: () => metrics.render(), access: metricsAccess(config) };
    // The HTTP port is bound first: with port 0, our tokens' issuer URL depends on the port we get.
    http = await listenHttp(config.host, config.httpPort, tls && config.tls?.http ? tls : undefined);
    const issuer = config.tokens.issuer ?? http.uri;
    try {
      security = await buildSecurity(config, logger, issuer, { observeAudit: (audit) => metrics.observing(audit), bearerKinds: options.authenticators });
      const listen = config.metrics.listen;
      if (listen) {
        const at = listen.lastIndexOf(':');
        metricsListener = await listenMetrics(listen.slice(0, at).replace(/^\[|\]$/g, ''), Number(listen.slice(at + 1)), route.access, route.render);
        logger.info(`flightgate metrics on ${metricsListener.uri}/metrics`);
      }
      await http.serve(security, config, logger, listen ? undefined : route);
    } catch (err) {
      await security?.close().catch(() => undefined);
      await http.close();
      metricsListener?.server.close();
      throw err;
    }
  }
  const closeSecurity = async (): Promise<void> => {
    if (metricsListener) {
      metricsListener.server.closeAllConnections();
      await new Promise<void>((r) => metricsListener!.server.close(() => r()));
    }
    await http?.close().catch((err: unknown) => logger.error('closing the HTTP service failed', err));
    await security?.close().catch((err: unknown) => logger.error('closing the registry and session store failed', err));
  };
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
  const audit = security?.audit;
  let address;
  try {
    // Registering commands and actions can fail (a name given twice): nothing may be left open then.
    new FlightService({
      catalog,
      access: options.access ?? security!.access,
      advertisedUri: config.advertisedUri,
      ticketTtlMs: config.ticketTtlSeconds * 1000,
      tickets: security?.tickets ?? new TicketCodec(),
      commands: options.commands,
      actions: options.actions,
      onDataAccess: audit
        ? (e) => audit.record({ event: 'data.access', outcome: e.outcome === 'ok' ? 'ok' : 'error', principal: e.principal.id, kind: e.principal.kind, issuer: e.principal.issuer, method: e.principal.method, peer: e.peer, rpc: e.rpc, dataset: e.dataset, rows: e.rows, bytes: e.bytes, ...(e.mode ? { action: e.mode } : {}) })
        : undefined,
    }).bind(grpc);
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
    httpUri: http?.uri,
    metricsUri: metricsListener && `${metricsListener.uri}/metrics`,
    catalog,
    activeCalls: () => grpc.activeCalls,
    reloadTls: () => {
      if (!config.tls) throw new ConfigError('tls is not configured: there is nothing to reload');
      const fresh = loadTls(config.tls);
      grpc.updateTls(fresh);
      if (config.tls.http) http?.updateTls(fresh);
    },
    close: async (graceMs = config.shutdownGraceSeconds * 1000) => {
      await grpc.close(graceMs);
      await closeSecurity();
    },
  };
}

interface MetricsRoute {
  readonly render: () => Promise<string>;
  readonly access: MetricsAccess;
}

/** The token GET /metrics requires (metrics.bearerTokenFile), read at start. */
function metricsAccess(config: Config): MetricsAccess {
  const file = config.metrics.bearerTokenFile;
  if (!file) return {};
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`metrics.bearerTokenFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (token.length < 16 || /\s/.test(token)) throw new ConfigError(`metrics.bearerTokenFile: ${file} must hold one token of at least 16 characters (e.g. from: openssl rand -hex 32)`);
  return { token };
}

interface HttpListener {
  server: Server;
  uri: string;
  /** `metrics`: the /metrics route on this service, unless it has a listener of its own. */
  serve(security: Security, config: Config, logger: Logger, metrics: MetricsRoute | undefined): Promise<void>;
  updateTls(tls: TransportTls): void;
  close(): Promise<void>;
}

/** Binds the HTTP port now and attaches the fastify app once it is built. */
async function listenHttp(host: string, port: number, tls: TransportTls | undefined): Promise<HttpListener> {
  let handler: RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  // Client certificates are a Flight matter: the HTTP service authenticates clients by OAuth means.
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => handler(req, res))
    : createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const urlHost = wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let app: ReturnType<typeof Fastify> | undefined;
  return {
    server,
    uri: `${tls ? 'https' : 'http'}://${urlHost}:${address.port}`,
    async serve(security, config, logger, metrics) {
      if (wildcard && !config.tokens.issuer) logger.warn(`the HTTP service listens on all interfaces; set tokens.issuer (FLIGHTGATE_TOKEN_ISSUER) to the URL clients use`);
      app = buildHttpApp({
        issuer: security.issuer,
        tokens: security.tokenService,
        keys: security.keyRing,
        gate: security.gate,
        passwordGrant: config.tokens.passwordGrant,
        ...(metrics ? { metrics: metrics.render, metricsAccess: metrics.access } : {}),
        readiness: () => security.readiness(),
        onInternalError: (err) => logger.error('HTTP request failed', err),
        serverFactory: (h) => {
          handler = h;
          return server;
        },
      });
      await app.ready();
    },
    updateTls(material) {
      if ('setSecureContext' in server) (server as unknown as TlsServer).setSecureContext({ cert: material.cert, key: material.key });
    },
    async close() {
      await app?.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
