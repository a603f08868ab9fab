/**
 * Verifies flightgate access tokens where flightgate is not: in another service acting as an
 * OAuth resource server. The same rules as flightgate's own check (RFC 9068 `at+jwt`, the
 * issuer's keys from its JWKS only, exact issuer and audience, expiry with leeway), then a
 * revocation check on every use.
 */
import { RemoteKeySet, fetchJson } from '../tokens/remote-key-set.js';
import { verifyJwt, type VerifierRules } from '../tokens/jwt-verifier.js';
import type { VerifiedClaims } from '../tokens/jwt-claims.js';
import { parseCompactJws } from '../tokens/jws.js';
import { ACCESS_TOKEN_TYPE, MAX_TOKEN_LENGTH } from '../tokens/jwt-bearer-verifier.js';
import { invalidToken, TokenError } from '../tokens/token-error.js';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.js';
import type { RevocationCheck } from './revocation-check.js';

/** Who a verified token speaks for. */
export interface FlightgateAccess {
  readonly subject: string;
  /** `user`, `client` or `external` (a person from an identity provider, via token exchange). */
  readonly subjectKind: string;
  readonly roles: readonly string[];
  readonly scope?: string;
  readonly clientId?: string;
  readonly expiresAt: number;
  readonly claims: VerifiedClaims;
}

export interface AccessTokenVerifierOptions {
  /** flightgate's issuer, exactly as its tokens carry it in `iss` (its HTTP base URL by default). */
  readonly issuer: string;
  /** The audience flightgate puts in its access tokens (`tokens.audience`, default `flightgate`). */
  readonly audience: string;
  /** Where the signing keys are; by default read from the issuer's RFC 8414 metadata. */
  readonly jwksUri?: string;
  readonly revocation: RevocationCheck;
  readonly leewaySeconds?: number;
  readonly keysCacheSeconds?: number;
  readonly cacheEntries?: number;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Reads one URL out of the issuer's RFC 8414 metadata, once, and remembers it. */
export function metadataUrl(issuer: string, field: 'jwks_uri' | 'introspection_endpoint'): () => Promise<string> {
  let found: Promise<string> | undefined;
  return () => {
    found ??= fetchJson(`${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server`, 3000).then((doc) => {
      const url = (doc as Record<string, unknown>)[field];
      if (typeof url !== 'string') throw new Error(`the metadata of ${issuer} has no ${field}`);
      return url;
    });
    found.catch(() => (found = undefined));
    return found;
  };
}

export class AccessTokenVerifier {
  private readonly keys: RemoteKeySet;
  private readonly rules: VerifierRules;
  private readonly cache: VerifiedTokenCache<FlightgateAccess>;

  constructor(
    private readonly options: AccessTokenVerifierOptions,
    private readonly now: () => number = Date.now,
  ) {
    const jwksUri = options.jwksUri;
    this.keys = new RemoteKeySet(
      {
        jwksUri: jwksUri ? async () => jwksUri : metadataUrl(options.issuer, 'jwks_uri'),
        cacheSeconds: options.keysCacheSeconds ?? 300,
        cooldownSeconds: 30,
      },
      now,
    );
    this.rules = {
      issuer: options.issuer,
      audience: options.audience,
      leewaySeconds: options.leewaySeconds ?? 30,
      algorithms: ['ES256', 'Ed25519', 'EdDSA'],
      types: [ACCESS_TOKEN_TYPE],
    };
    this.cache = new VerifiedTokenCache(options.cacheEntries ?? 10_000, now);
  }

  /** Throws TokenError: `invalid` for a bad, expired or revoked token, `unavailable` when it cannot be checked. */
  async verify(token: string): Promise<FlightgateAccess> {
    let access = this.cache.get(token);
    if (!access) {
      const parsed = parseCompactJws(token, MAX_TOKEN_LENGTH);
      const claims = await verifyJwt(parsed, this.keys, this.rules, this.now() / 1000);
      if (typeof claims.jti !== 'string') throw invalidToken('token has no "jti"');
      access = {
        subject: claims.sub,
        subjectKind: typeof claims.sub_kind === 'string' ? claims.sub_kind : 'user',
        roles: strings(claims.roles),
        scope: typeof claims.scope === 'string' ? claims.scope : undefined,
        clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
        expiresAt: claims.exp,
        claims,
      };
      const nbf = claims.nbf;
      if (typeof nbf !== 'number' || nbf <= this.now() / 1000) this.cache.set(token, access, (claims.exp + this.rules.leewaySeconds) * 1000);
    }
    if (!(await this.options.revocation.isLive(token, access.claims))) {
      this.cache.delete(token);
      throw invalidToken('token revoked');
    }
    return access;
  }
}

export { TokenError };
