/**
 * A real OpenID provider (npm `oidc-provider`) on loopback as the company identity provider for
 * browser sign-in: one confidential web client (flightgate, authorization code with PKCE), people
 * with groups, and oidc-provider's own login and consent pages (its development interactions,
 * which take any password: the people are who the test says they are).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SignInIssuer {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  stop(): Promise<void>;
}

interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderLike;

export async function startSignInIssuer(options: {
  redirectUri: string;
  people: Record<string, string[]>;
  /** A second web client that authenticates with private_key_jwt (RFC 7523): its id and public JWK. */
  keyClient?: { clientId: string; publicJwk: Record<string, unknown> };
}): Promise<SignInIssuer> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'flightgate-web';
  const clientSecret = randomBytes(24).toString('base64url');
  const originalWarn = console.warn;
  const originalInfo = console.info;
  console.warn = () => undefined;
  console.info = () => undefined;
  const { default: Provider } = (await import('oidc-provider')) as unknown as { default: ProviderConstructor };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        // The second is a callback nobody answers: a test can stop a sign-in there and hold its code.
        redirect_uris: [options.redirectUri, `${options.redirectUri}-held`],
        post_logout_redirect_uris: [options.redirectUri.replace(/\/callback$/, '/login')],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
      },
      ...(options.keyClient
        ? [
            {
              client_id: options.keyClient.clientId,
              grant_types: ['authorization_code'],
              response_types: ['code'],
              redirect_uris: [`${options.redirectUri}-held`],
              token_endpoint_auth_method: 'private_key_jwt',
              token_endpoint_auth_signing_alg: 'ES256',
              jwks: { keys: [options.keyClient.publicJwk] },
              id_token_signed_response_alg: 'RS256',
            },
          ]
        : []),
    ],
    scopes: ['openid', 'groups'],
    claims: { openid: ['sub'], groups: ['groups'] },
    // The groups go into the ID token itself, as Okta and Keycloak can be set to do.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    findAccount: async (_ctx: unknown, id: string) =>
      id in options.people ? { accountId: id, claims: async () => ({ sub: id, groups: options.people[id] }) } : undefined,
  });
  console.warn = originalWarn;
  console.info = originalInfo;
  handler = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
