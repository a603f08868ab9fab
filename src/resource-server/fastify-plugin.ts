/**
 * A fastify plugin for Node services that accept flightgate access tokens (resource servers).
 * Every route in the scope it is registered in needs a valid token unless the route says
 * `config: { flightgate: { public: true } }`; a route that lists `roles` needs one of them.
 * The principal is on `request.flightgate`.
 *
 *   await app.register(flightgateResourceServer, { issuer, audience: 'flightgate', introspection: { clientId, clientSecret } });
 *   app.get('/reports', { config: { flightgate: { roles: ['analysts'] } } }, (req) => req.flightgate?.subject);
 *
 * Errors follow RFC 6750: 401 with `WWW-Authenticate: Bearer error="invalid_token"` for a bad,
 * expired or revoked token (and no error code when none was sent), 403 `insufficient_scope` for
 * a missing role, 503 when the keys or the revocation check cannot be reached (fail closed).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { openRedis } from '../stores/redis-client.js';
import { RedisRevocationList } from '../stores/redis-revocation-list.js';
import { TokenError } from '../tokens/token-error.js';
import { AccessTokenVerifier, metadataUrl, type FlightgateAccess } from './access-token-verifier.js';
import { introspectionCheck, revocationListCheck, type IntrospectionOptions, type RevocationCheck } from './revocation-check.js';

/** What a route asks of the caller. */
export interface RouteAccess {
  /** No token needed (health checks, public documents). */
  readonly public?: boolean;
  /** The caller needs at least one of these roles. */
  readonly roles?: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once its flightgate token was accepted; null on public routes. */
    flightgate: FlightgateAccess | null;
  }
  interface FastifyContextConfig {
    flightgate?: RouteAccess;
  }
}

export interface FlightgateResourceServerOptions {
  /** flightgate's issuer, exactly as in its tokens' `iss` (its HTTP base URL unless `tokens.issuer` is set). */
  readonly issuer: string;
  /** `tokens.audience` of the flightgate server (default `flightgate`). */
  readonly audience: string;
  /** By default read from the issuer's metadata. */
  readonly jwksUri?: string;
  /**
   * How revocations are noticed. `introspection` asks flightgate (the endpoint defaults to the
   * one in its metadata); `revocationRedisUrl` reads the list flightgate keeps in the Redis it
   * shares with its replicas (`FLIGHTGATE_REDIS_URL`), so a revocation is seen at once. One is
   * required: a resource server that never hears of revocations would accept a revoked token
   * until it expires.
   */
  readonly introspection?: Omit<IntrospectionOptions, 'endpoint'> & { readonly endpoint?: string };
  readonly revocationRedisUrl?: string;
  readonly leewaySeconds?: number;
  /** The realm named in `WWW-Authenticate`. */
  readonly realm?: string;
}

function revocationCheckOf(options: FlightgateResourceServerOptions, onClose: (close: () => Promise<void>) => void): RevocationCheck {
  if (options.revocationRedisUrl) {
    // Connection errors surface as UNAVAILABLE on the next check; they must not crash the service.
    const redis = openRedis(options.revocationRedisUrl, () => undefined);
    onClose(async () => void (await redis.quit().catch(() => redis.disconnect())));
    return revocationListCheck(new RedisRevocationList(redis));
  }
  if (options.introspection) {
    const { endpoint, ...rest } = options.introspection;
    return introspectionCheck({ ...rest, endpoint: endpoint ?? metadataUrl(options.issuer, 'introspection_endpoint') });
  }
  throw new Error('flightgateResourceServer needs `introspection` or `revocationRedisUrl`, so that revoked tokens are refused');
}

const quoted = (s: string): string => s.replace(/["\\\r\n]/g, ' ');

function refuse(reply: FastifyReply, realm: string, status: 401 | 403 | 503, error?: string, description?: string): FastifyReply {
  const params = [`realm="${quoted(realm)}"`];
  if (error) params.push(`error="${error}"`);
  if (description) params.push(`error_description="${quoted(description)}"`);
  if (status !== 503) reply.header('www-authenticate', `Bearer ${params.join(', ')}`);
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .send({ error: error ?? (status === 503 ? 'temporarily_unavailable' : 'invalid_request'), error_description: description ?? 'a bearer token is required' });
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1];
}

const plugin: FastifyPluginAsync<FlightgateResourceServerOptions> = async (app, options) => {
  const verifier = new AccessTokenVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUri: options.jwksUri,
    leewaySeconds: options.leewaySeconds,
    revocation: revocationCheckOf(options, (close) => app.addHook('onClose', close)),
  });
  const realm = options.realm ?? 'flightgate';
  app.decorateRequest('flightgate', null);
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.flightgate;
    if (access?.public) return;
    const token = bearerOf(request);
    if (!token) return refuse(reply, realm, 401);
    let principal: FlightgateAccess;
    try {
      principal = await verifier.verify(token);
    } catch (err) {
      if (err instanceof TokenError && err.code === 'unavailable') return refuse(reply, realm, 503, undefined, err.message);
      if (err instanceof TokenError) return refuse(reply, realm, 401, 'invalid_token', err.message);
      throw err;
    }
    const needed = access?.roles;
    if (needed?.length && !needed.some((r) => principal.roles.includes(r))) {
      return refuse(reply, realm, 403, 'insufficient_scope', `this needs one of the roles ${needed.join(', ')}`);
    }
    request.flightgate = principal;
  });
};

// Like fastify-plugin: the hook applies to the scope that registers the plugin, not a child of it.
Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'flightgate-resource-server' });

export const flightgateResourceServer = plugin;
export type { FlightgateAccess } from './access-token-verifier.js';
