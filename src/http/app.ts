/** The HTTP face of flightgate: OAuth 2 token service, discovery, JWKS, docs, health. */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AuthGate } from '../auth/auth-gate.js';
import type { SigningKeyRing } from '../tokens/signing-keys.js';
import type { TokenService } from '../tokens/token-service.js';
import { DOCS_PAGE } from './docs-page.js';
import { metadataRoutes } from './metadata-routes.js';
import { FORM, oauthRoutes } from './oauth-routes.js';
import { openApiDocument } from './openapi.js';
import { whoamiRoute } from './whoami-route.js';
import { corsRoutes, type CorsOptions } from './cors.js';
import { webRoutes, type WebOptions } from './web/web-routes.js';
import { METRICS_CHALLENGE, metricsAuthorized, type MetricsAccess } from './metrics-access.js';
import { PROMETHEUS_CONTENT_TYPE } from '../audit/metrics.js';
import type { ReadinessReport } from '../core/readiness.js';

export interface HttpAppOptions {
  readonly issuer: string;
  readonly tokens: TokenService;
  readonly keys: SigningKeyRing;
  readonly gate: AuthGate;
  readonly passwordGrant: boolean;
  readonly onInternalError: (err: unknown) => void;
  /** Prometheus text for GET /metrics; without it the route does not exist. */
  readonly metrics?: () => Promise<string>;
  /** The bearer token GET /metrics requires, if any. */
  readonly metricsAccess?: MetricsAccess;
  /** Backend checks for GET /readyz. */
  readonly readiness?: () => Promise<ReadinessReport>;
  /** Browser sign-in and the access page, when an identity provider has a login configured. */
  readonly web?: WebOptions;
  /** Browser origins allowed to call the token service (none: CORS off). */
  readonly cors?: CorsOptions;
  /** Attach to a server that is already listening instead of creating one. */
  readonly serverFactory?: (handler: RequestListener) => Server;
}

export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    trustProxy: false,
    return503OnClosing: true,
    ...(options.serverFactory ? { serverFactory: options.serverFactory as (h: (req: IncomingMessage, res: ServerResponse) => void) => Server } : {}),
  });
  // Only form bodies are read: fastify's JSON and text parsers would answer (or accept) other
  // types before a route could refuse them with 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // Bodies of other types stay unparsed so the OAuth routes answer invalid_request themselves.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, _body, done) => done(null, undefined));
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) options.onInternalError(err);
    return reply.code(status).headers({ 'cache-control': 'no-store' }).send({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: status === 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', error_description: `no route ${req.method} ${req.url.split('?')[0]}` }));

  if (options.cors) corsRoutes(app, options.cors);
  if (options.web) webRoutes(app, options.web);
  oauthRoutes(app, options.tokens, options.onInternalError);
  metadataRoutes(app, options.issuer, options.keys, options.passwordGrant, options.tokens.services.devices !== undefined);
  whoamiRoute(app, options.gate, options.onInternalError);
  const doc = openApiDocument(options.issuer);
  app.get('/openapi.json', async () => doc);
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
  app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  const readiness = options.readiness;
  if (readiness) {
    app.get('/readyz', async (_req, reply) => {
      const report = await readiness();
      return reply.code(report.ready ? 200 : 503).header('cache-control', 'no-store').send({ status: report.ready ? 'ready' : 'unavailable', checks: report.checks });
    });
  }
  const metrics = options.metrics;
  const access = options.metricsAccess ?? {};
  if (metrics) {
    app.get('/metrics', async (req, reply) => {
      if (!metricsAuthorized(access, req.headers.authorization)) {
        return reply.code(401).header('www-authenticate', METRICS_CHALLENGE).send({ error: 'invalid_token', error_description: 'a bearer token is required (metrics.bearerTokenFile)' });
      }
      return reply.type(PROMETHEUS_CONTENT_TYPE).header('cache-control', 'no-store').send(await metrics());
    });
  }
  return app;
}
