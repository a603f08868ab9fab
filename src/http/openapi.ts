/** The OpenAPI 3.1 description of the HTTP service, served at /openapi.json and rendered at /docs. */
import { SUPPORTED_GRANTS } from '../tokens/token-service.js';

const form = (properties: Record<string, { type: 'string'; description: string; enum?: readonly string[] }>, required: string[] = []): object => ({
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties, required } } },
});

const oauthError = {
  description: 'OAuth error (RFC 6749 §5.2)',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } },
};

export function openApiDocument(issuer: string): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'flightgate token service',
      version: '1',
      description: 'OAuth 2 token service for the flightgate Arrow Flight server. Access tokens are JWTs (RFC 9068) to send to Flight as `authorization: Bearer <token>`.',
    },
    servers: [{ url: issuer }],
    components: {
      securitySchemes: {
        clientBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic: client_id and client_secret' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT, fgs_ session token or fgk_ API key' },
      },
      schemas: {
        OAuthError: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'string' }, error_description: { type: 'string' } },
        },
        TokenResponse: {
          type: 'object',
          required: ['access_token', 'token_type', 'expires_in'],
          properties: {
            access_token: { type: 'string' },
            token_type: { type: 'string', enum: ['Bearer'] },
            expires_in: { type: 'integer' },
            scope: { type: 'string' },
            refresh_token: { type: 'string' },
            issued_token_type: { type: 'string' },
          },
        },
      },
    },
    paths: {
      '/oauth2/token': {
        post: {
          summary: `Token endpoint (RFC 6749, RFC 8693): ${SUPPORTED_GRANTS.join(', ')}; password only if enabled`,
          security: [{ clientBasic: [] }, {}],
          requestBody: form(
            {
              grant_type: { type: 'string', enum: [...SUPPORTED_GRANTS], description: `${SUPPORTED_GRANTS.join(' | ')} (password only when enabled)` },
              scope: { type: 'string', description: 'space-separated scopes, a subset of the client\'s' },
              refresh_token: { type: 'string', description: 'refresh_token grant: the current refresh token (it is rotated)' },
              subject_token: { type: 'string', description: 'token exchange: an access token from a trusted external issuer' },
              subject_token_type: { type: 'string', description: 'token exchange: urn:ietf:params:oauth:token-type:access_token or …:jwt' },
              client_id: { type: 'string', description: 'client_secret_post' },
              client_secret: { type: 'string', description: 'client_secret_post' },
            },
            ['grant_type'],
          ),
          responses: {
            '200': { description: 'tokens', content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenResponse' } } } },
            '400': oauthError,
            '401': oauthError,
            '503': oauthError,
          },
        },
      },
      '/oauth2/introspect': {
        post: {
          summary: 'Token introspection (RFC 7662); requires client authentication',
          security: [{ clientBasic: [] }],
          requestBody: form({ token: { type: 'string', description: 'access or refresh token' }, token_type_hint: { type: 'string', description: 'access_token | refresh_token' } }, ['token']),
          responses: { '200': { description: '{"active": …}' }, '400': oauthError, '401': oauthError },
        },
      },
      '/oauth2/revoke': {
        post: {
          summary: 'Token revocation (RFC 7009): a refresh token revokes its family; an access token its jti',
          security: [{ clientBasic: [] }],
          requestBody: form({ token: { type: 'string', description: 'the token to revoke' }, token_type_hint: { type: 'string', description: 'access_token | refresh_token' } }, ['token']),
          responses: { '200': { description: 'revoked (also for unknown tokens)' }, '400': oauthError, '401': oauthError },
        },
      },
      '/.well-known/oauth-authorization-server': { get: { summary: 'Authorization server metadata (RFC 8414)', responses: { '200': { description: 'metadata' } } } },
      '/.well-known/jwks.json': { get: { summary: 'Public keys that sign our access tokens (RFC 7517)', responses: { '200': { description: 'JWKS' } } } },
      '/whoami': {
        get: {
          summary: 'Who a bearer token stands for (any token Flight accepts)',
          security: [{ bearer: [] }],
          responses: { '200': { description: '{"principal", "method", "roles"}' }, '401': { description: 'invalid_token (RFC 6750)' } },
        },
      },
      '/healthz': { get: { summary: 'Liveness: the process answers', responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Readiness: the registry and the session store answer', responses: { '200': { description: 'ready, with each check' }, '503': { description: 'a backend does not answer; the checks say which' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics (text format 0.0.4)', responses: { '200': { description: 'calls, authentication, data streamed, tokens, sessions, process' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  };
}
