/**
 * The control plane: authentication and authorization (security.ts), the HTTP service with the
 * token endpoints, and /metrics, on a listener of its own when configured. The Flight data plane
 * runs without it only when an embedding application supplies its own access control.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type Fastify from 'fastify';
import type { FlightgateMetrics } from './audit/flightgate-metrics.js';
import type { BearerKind } from './auth/bearer-router.js';
import { ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import type { TransportTls } from './flight/transport/call.js';
import { buildHttpApp } from './http/app.js';
import { listenMetrics, type MetricsAccess } from './http/metrics-access.js';
import type { Logger } from './logger.js';
import { buildSecurity, type Security } from './security.js';
import { ApiKeyAdmin } from './auth/api-key-admin.js';
import type { Principal } from './core/principal.js';
import type { DatasetColumns } from './http/web/pages.js';
import type { WebOptions } from './http/web/web-routes.js';
import { loadClientKey, OidcLogin } from './tokens/oidc-login.js';

export interface ControlPlane {
  readonly security: Security;
  /** The token service's base URL (also our tokens' issuer unless configured). */
  readonly httpUri: string;
  /** Where GET /metrics is served when it has a listener of its own (metrics.listen). */
  readonly metricsUri?: string;
  updateTls(tls: TransportTls): void;
  close(): Promise<void>;
}

export interface ControlPlaneOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly tls?: TransportTls;
  readonly metrics: FlightgateMetrics;
  readonly authenticators?: readonly BearerKind[];
  /** What the access page shows of the data plane: the datasets a principal may read, and where Flight listens. */
  readonly web?: WebDataPlane;
}

export interface WebDataPlane {
  datasets(principal: Principal): Promise<DatasetColumns[]>;
  flightUri(): string;
}

export async function openControlPlane({ config, logger, tls, metrics, authenticators, web }: ControlPlaneOptions): Promise<ControlPlane> {
  const route: MetricsRoute = { render: () => metrics.render(), access: metricsAccess(config) };
  // The HTTP port is bound first: with port 0, our tokens' issuer URL depends on the port we get.
  const http = await listenHttp(config.host, config.httpPort, tls && config.tls?.http ? tls : undefined);
  const issuer = config.tokens.issuer ?? http.uri;
  let security: Security | undefined;
  let metricsListener: { server: Server; uri: string } | undefined;
  const closeMetrics = async (): Promise<void> => {
    if (!metricsListener) return;
    metricsListener.server.closeAllConnections();
    await new Promise<void>((r) => metricsListener!.server.close(() => r()));
  };
  try {
    security = await buildSecurity(config, logger, issuer, { observeAudit: (audit) => metrics.observing(audit), bearerKinds: authenticators });
    const listen = config.metrics.listen;
    if (listen) {
      const at = listen.lastIndexOf(':');
      metricsListener = await listenMetrics(listen.slice(0, at).replace(/^\[|\]$/g, ''), Number(listen.slice(at + 1)), route.access, route.render);
      logger.info(`flightgate metrics on ${metricsListener.uri}/metrics`);
    }
    await http.serve(security, config, logger, listen ? undefined : route, web);
  } catch (err) {
    await security?.close().catch(() => undefined);
    await http.close();
    await closeMetrics();
    throw err;
  }
  const opened = security;
  return {
    security: opened,
    httpUri: http.uri,
    metricsUri: metricsListener && `${metricsListener.uri}/metrics`,
    updateTls: (fresh) => {
      if (config.tls?.http) http.updateTls(fresh);
    },
    close: async () => {
      await closeMetrics();
      await http.close().catch((err: unknown) => logger.error('closing the HTTP service failed', err));
      await opened.close().catch((err: unknown) => logger.error('closing the registry and session store failed', err));
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
  serve(security: Security, config: Config, logger: Logger, metrics: MetricsRoute | undefined, web: WebDataPlane | undefined): Promise<void>;
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
    async serve(security, config, logger, metrics, web) {
      if (wildcard && !config.tokens.issuer) logger.warn(`the HTTP service listens on all interfaces; set tokens.issuer (FLIGHTGATE_TOKEN_ISSUER) to the URL clients use`);
      app = buildHttpApp({
        issuer: security.issuer,
        tokens: security.tokenService,
        keys: security.keyRing,
        gate: security.gate,
        passwordGrant: config.tokens.passwordGrant,
        cors: config.cors,
        ...(web ? { web: webOptions(security, config, logger, web) } : {}),
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

/** Browser sign-in with every identity provider that has a `login`; undefined when none has. */
function webOptions(security: Security, config: Config, logger: Logger, web: WebDataPlane): WebOptions | undefined {
  const logins = security.externals
    .filter((e) => e.config.login)
    .map((e) => {
      const login = e.config.login!;
      let key;
      try {
        key = login.privateKeyFile ? loadClientKey(login.privateKeyFile, login.keyId) : undefined;
      } catch (err) {
        throw new ConfigError(`oidc issuer ${e.issuer}: login.privateKeyFile: ${(err as Error).message}`);
      }
      return new OidcLogin(e, login, `${security.issuer}/callback`, key);
    });
  if (logins.length === 0) return undefined;
  return {
    base: security.issuer,
    logins,
    sessions: security.webSessions,
    apiKeys: new ApiKeyAdmin(security.registry.apiKeys),
    loginKey: security.tickets.derive('web login'),
    datasets: (p) => web.datasets(p),
    flightUri: () => web.flightUri(),
    maxTokenDays: config.web.maxTokenDays,
    sessionLifetimeSeconds: config.web.sessionLifetimeSeconds,
    audit: security.audit,
    onInternalError: (err) => logger.error('sign-in failed', err),
    ...(security.tokenService.services.devices ? { devices: security.tokenService.services.devices } : {}),
  };
}
