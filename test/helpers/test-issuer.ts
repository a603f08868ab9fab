/**
 * A real OpenID provider (the npm `oidc-provider`) on loopback, as the external issuer in tests.
 * Its ES256 signing key is generated here and handed to it, so tests can also forge edge-case
 * tokens with the issuer's real key; the provider itself issues the ordinary access tokens
 * (client_credentials with a resource indicator → `at+jwt`) and serves discovery and JWKS.
 */
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IssuerClient {
  clientId: string;
  clientSecret: string;
  groups: string[];
  /** More claims its access tokens carry (a tenant, regions). */
  claims?: Record<string, unknown>;
}

export interface TestIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly privateJwk: JsonWebKey;
  readonly kid: string;
  jwksRequests(): number;
  accessToken(clientId: string): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderLike;

export async function startTestIssuer(options: {
  clients: IssuerClient[];
  audience?: string;
  accessTokenTtlSeconds?: number;
  /** `opaque` tokens can be introspected at the provider; JWTs (the default) cannot. */
  accessTokenFormat?: 'jwt' | 'opaque';
}): Promise<TestIssuer> {
  const audience = options.audience ?? 'api://flightgate';
  const kid = `idp-${randomBytes(4).toString('hex')}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk: JsonWebKey = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };

  // Bind first: the issuer URL contains the port.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  let jwksCount = 0;
  const listen = (server: Server, port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const makeServer = (): Server =>
    createServer((req, res) => {
      if (req.url?.split('?')[0] === '/jwks') jwksCount++;
      handler(req, res);
    });
  let server = makeServer();
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  // oidc-provider warns that it wants Node 22; it works on Node 20 (see ENVIRONMENT.md).
  const originalWarn = console.warn;
  console.warn = () => undefined;
  const { default: Provider } = (await import('oidc-provider')) as unknown as { default: ProviderConstructor };
  const groupsOf = new Map(options.clients.map((c) => [c.clientId, c.groups]));
  const claimsOf = new Map(options.clients.map((c) => [c.clientId, c.claims ?? {}]));
  const provider = new Provider(issuer, {
    jwks: { keys: [privateJwk] },
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: 'flight',
    })),
    scopes: ['flight'],
    ttl: { ClientCredentials: options.accessTokenTtlSeconds ?? 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'flight',
          audience,
          accessTokenFormat: options.accessTokenFormat ?? 'jwt',
          accessTokenTTL: options.accessTokenTtlSeconds ?? 300,
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => ({ ...claimsOf.get(token.clientId ?? ''), groups: groupsOf.get(token.clientId ?? '') ?? [] }),
  });
  console.warn = originalWarn;
  handler = provider.callback();

  return {
    issuer,
    audience,
    privateJwk,
    kid,
    jwksRequests: () => jwksCount,
    async accessToken(clientId) {
      const client = options.clients.find((c) => c.clientId === clientId);
      if (!client) throw new Error(`no issuer client ${clientId}`);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: audience, scope: 'flight' }).toString(),
      });
      const body = (await res.json()) as { access_token?: string };
      if (res.status !== 200 || !body.access_token) throw new Error(`issuer token request failed: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async stop() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async start() {
      if (server.listening) return;
      server = makeServer();
      await listen(server, port);
    },
  };
}
