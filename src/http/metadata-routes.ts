/** Discovery (RFC 8414) and our public keys (RFC 7517). */
import type { FastifyInstance } from 'fastify';
import type { SigningKeyRing } from '../tokens/signing-keys.js';
import { SUPPORTED_GRANTS } from '../tokens/token-service.js';
import { GRANT_DEVICE_CODE } from '../core/vocabulary.js';

export function metadataRoutes(app: FastifyInstance, issuer: string, keys: SigningKeyRing, passwordGrant: boolean, deviceFlow = false): void {
  const metadata = {
    issuer,
    ...(deviceFlow ? { device_authorization_endpoint: `${issuer}/oauth2/device_authorization` } : {}),
    token_endpoint: `${issuer}/oauth2/token`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: SUPPORTED_GRANTS.filter((g) => (passwordGrant || g !== 'password') && (deviceFlow || g !== GRANT_DEVICE_CODE)),
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    response_types_supported: [],
    scopes_supported: [],
    service_documentation: `${issuer}/docs`,
  };
  const sendMetadata = async (): Promise<typeof metadata> => metadata;
  app.get('/.well-known/oauth-authorization-server', sendMetadata);
  app.get('/.well-known/jwks.json', async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(keys.jwks()));
}
