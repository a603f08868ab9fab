/**
 * CORS for the routes a browser application calls itself: the token endpoint (an RFC 8693
 * exchange of the IdP token it holds), revocation, /whoami, discovery and the JWKS. Off unless
 * origins are configured; an origin not on the list gets no CORS headers (its browser then keeps
 * the answer from it), and a preflight from it is refused with 403. Credentials (cookies) are
 * never allowed for `*`: the config refuses that combination, and this module checks it again.
 * Introspection and /metrics are for servers and never answer cross-origin.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface CorsOptions {
  /** Exact origins (`https://app.example.com`), or `*` for any. */
  readonly origins: readonly string[];
  readonly credentials: boolean;
  readonly maxAgeSeconds: number;
}

export const CORS_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/oauth2/token', ['POST']],
  ['/oauth2/revoke', ['POST']],
  ['/whoami', ['GET']],
  ['/.well-known/oauth-authorization-server', ['GET']],
  ['/.well-known/jwks.json', ['GET']],
]);

const ALLOWED_HEADERS = 'authorization, content-type';

export function corsRoutes(app: FastifyInstance, options: CorsOptions): void {
  if (options.origins.length === 0) return;
  const any = options.origins.includes('*');
  if (any && options.credentials) throw new Error('CORS credentials cannot be allowed for every origin (*)');
  const listed = new Set(options.origins.filter((o) => o !== '*'));
  const allowed = (origin: string | undefined): origin is string => origin !== undefined && (any || listed.has(origin));

  const decorate = (req: FastifyRequest, reply: FastifyReply): void => {
    const origin = req.headers.origin;
    reply.header('vary', 'Origin');
    if (!allowed(origin)) return;
    // A listed origin is echoed (never `*` with credentials); `*` stays `*` for the others.
    reply.header('access-control-allow-origin', listed.has(origin) || options.credentials ? origin : '*');
    if (options.credentials) reply.header('access-control-allow-credentials', 'true');
  };

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (!CORS_PATHS.has(path) || req.method === 'OPTIONS') return;
    decorate(req, reply);
  });

  for (const [path, methods] of CORS_PATHS) {
    app.options(path, async (req, reply) => {
      const origin = req.headers.origin;
      const method = String(req.headers['access-control-request-method'] ?? '');
      reply.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      if (!allowed(origin) || !methods.includes(method)) {
        return reply.code(403).header('cache-control', 'no-store').send({ error: 'cors_refused', error_description: allowed(origin) ? `${method || 'that method'} is not allowed on ${path}` : 'this origin is not allowed (cors.origins)' });
      }
      decorate(req, reply);
      return reply
        .code(204)
        .header('access-control-allow-methods', methods.join(', '))
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', String(options.maxAgeSeconds))
        .send();
    });
  }
}
