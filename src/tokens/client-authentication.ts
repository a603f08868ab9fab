/**
 * OAuth client authentication at the token, introspection and revocation endpoints:
 * `client_secret_basic` (RFC 6749 §2.3.1, form-encoded id and secret inside Basic) or
 * `client_secret_post`; never both at once.
 */
import type { ClientRecord } from '../stores/client-registry.js';
import type { ClientDirectory } from './client-directory.js';
import { secretMatches } from './client-secrets.js';
import { invalidRequest, OAuthError } from './oauth-error.js';
import type { FormParams } from './form-params.js';

export interface PresentedClient {
  readonly clientId: string;
  readonly secret: string;
  readonly method: 'client_secret_basic' | 'client_secret_post';
}

const BASIC_CHALLENGE = 'Basic realm="flightgate", charset="UTF-8"';

function formDecode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw new OAuthError('invalid_client', 'malformed client credentials in the Authorization header', 401, BASIC_CHALLENGE);
  }
}

/** The client credentials a request carries, if any; throws on malformed or doubled ones. */
export function presentedClient(authorization: string | undefined, params: FormParams): PresentedClient | undefined {
  const bodySecret = params.get('client_secret');
  if (authorization !== undefined && authorization.trim() !== '') {
    const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization.trim());
    if (!m) throw new OAuthError('invalid_client', 'unsupported Authorization header: use Basic with the client id and secret', 401, BASIC_CHALLENGE);
    if (bodySecret !== undefined) throw invalidRequest('use only one client authentication method (Basic header or client_secret in the body)');
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed client credentials in the Authorization header', 401, BASIC_CHALLENGE);
    const clientId = formDecode(decoded.slice(0, colon));
    const bodyId = params.get('client_id');
    if (bodyId !== undefined && bodyId !== clientId) throw invalidRequest('client_id in the body differs from the authenticated client');
    return { clientId, secret: formDecode(decoded.slice(colon + 1)), method: 'client_secret_basic' };
  }
  if (bodySecret !== undefined) {
    const clientId = params.get('client_id');
    if (!clientId) throw invalidRequest('client_secret without client_id');
    return { clientId, secret: bodySecret, method: 'client_secret_post' };
  }
  return undefined;
}

/**
 * Credentials verified in the last moments, by their exact presented form: a machine calling the
 * token or introspection endpoint again skips decoding and hashing. Entries live no longer than
 * the client directory's cache, so a disabled client or rotated secret is refused as soon as
 * it would be without this cache. Failures are never cached.
 */
class RecentCredentials {
  private readonly entries = new Map<string, { client: ClientRecord; until: number }>();
  constructor(private readonly ttlMs: number) {}

  get(key: string, now: number): ClientRecord | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until > now) return hit.client;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, client: ClientRecord, now: number): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= 1000) this.entries.clear();
    this.entries.set(key, { client, until: now + this.ttlMs });
  }
}

export class ClientAuthenticator {
  private readonly recent: RecentCredentials;

  constructor(
    private readonly directory: ClientDirectory,
    cacheMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.recent = new RecentCredentials(Math.min(cacheMs, 1000));
  }

  /** Verifies presented credentials; every failure is the same `invalid_client` (401). */
  async authenticate(presented: PresentedClient): Promise<ClientRecord> {
    const key = `${presented.method}\u0000${presented.clientId}\u0000${presented.secret}`;
    const t = this.now();
    const hit = this.recent.get(key, t);
    if (hit) return hit;
    const fail = (): OAuthError =>
      new OAuthError('invalid_client', 'client authentication failed', 401, presented.method === 'client_secret_basic' ? BASIC_CHALLENGE : undefined);
    if (presented.clientId.length > 200 || presented.secret.length > 200) throw fail();
    const client = await this.directory.get(presented.clientId);
    // Hash and compare even for an unknown client, so timing does not tell which ids exist.
    const ok = secretMatches(presented.secret, client?.secretHash ?? '0'.repeat(64));
    if (!client || !ok || client.disabled) throw fail();
    this.recent.set(key, client, t);
    return client;
  }

  /** For endpoints that require a client: credentials must be present and valid. */
  async require(authorization: string | undefined, params: FormParams): Promise<ClientRecord> {
    const presented = presentedClient(authorization, params);
    if (!presented) throw new OAuthError('invalid_client', 'client authentication required (HTTP Basic or client_id and client_secret)', 401, BASIC_CHALLENGE);
    return this.authenticate(presented);
  }
}
