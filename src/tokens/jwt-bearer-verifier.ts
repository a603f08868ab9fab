/**
 * Checks a JWT presented as a bearer token: ours (signed with our keys, revocable by `jti`) or
 * from a trusted external issuer. The unverified `iss` only chooses which issuer's rules and keys
 * apply; those rules then check everything, `iss` included. Verified tokens are cached until
 * they expire; revocation is checked on every use.
 */
import type { RevocationList } from '../stores/revocation-list.js';
import type { ExternalIssuer } from './external-issuer.js';
import type { VerifiedClaims } from './jwt-claims.js';
import { parseCompactJws } from './jws.js';
import { verifyJwt, type KeyResolver, type VerifierRules } from './jwt-verifier.js';
import { invalidToken } from './token-error.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const MAX_TOKEN_LENGTH = 8192;

export interface VerifiedBearer {
  readonly principalId: string;
  /** What the subject is: our tokens say so in `sub_kind`; an external issuer's are external. */
  readonly subjectKind: 'user' | 'client' | 'external';
  /** For external subjects (direct, or exchanged into our token): their issuer. */
  readonly subjectIssuer?: string;
  /** `jwt` for our own tokens, `oidc` for an external issuer's. */
  readonly method: 'jwt' | 'oidc';
  readonly roles: readonly string[];
  readonly issuer: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly jti?: string;
  readonly clientId?: string;
  readonly scope?: string;
  readonly claims: VerifiedClaims;
}

/** Cheap shape test used to route a bearer: three base64url parts, a JSON header. */
export const isJwtShaped = (token: string): boolean => token.startsWith('eyJ') && token.split('.', 4).length === 3;

export interface OwnTokenRules {
  readonly issuer: string;
  readonly audience: string;
  readonly leewaySeconds: number;
  readonly keys: KeyResolver;
}

/**
 * The subject of one of our tokens. Tokens issued before `sub_kind` existed say it another way:
 * an exchanged one names its IdP in `idp`, a client's has `sub` equal to `client_id`.
 */
function ownSubject(claims: VerifiedClaims): { subjectKind: VerifiedBearer['subjectKind']; subjectIssuer?: string } {
  const idp = typeof claims.idp === 'string' ? claims.idp : undefined;
  const kind = claims.sub_kind;
  if (kind === 'external' || (kind === undefined && idp !== undefined)) return { subjectKind: 'external', subjectIssuer: idp ?? '' };
  if (kind === 'client' || (kind === undefined && claims.client_id === claims.sub)) return { subjectKind: 'client' };
  return { subjectKind: 'user' };
}

const stringArray = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export class JwtBearerVerifier {
  private readonly externals = new Map<string, ExternalIssuer>();
  private readonly ownRules: VerifierRules;
  private readonly cache: VerifiedTokenCache<VerifiedBearer>;

  constructor(
    private readonly own: OwnTokenRules,
    externals: readonly ExternalIssuer[],
    private readonly revocations: RevocationList,
    cacheEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    for (const e of externals) this.externals.set(e.issuer, e);
    this.ownRules = { issuer: own.issuer, audience: own.audience, leewaySeconds: own.leewaySeconds, algorithms: ['ES256', 'Ed25519', 'EdDSA'], types: [ACCESS_TOKEN_TYPE] };
    this.cache = new VerifiedTokenCache(cacheEntries, now);
  }

  get ownIssuer(): string {
    return this.own.issuer;
  }

  isExternalIssuer(iss: string): boolean {
    return this.externals.has(iss);
  }

  async verify(token: string): Promise<VerifiedBearer> {
    const hit = this.cache.get(token);
    if (hit) {
      await this.checkRevoked(hit);
      return hit;
    }
    const parsed = parseCompactJws(token, MAX_TOKEN_LENGTH);
    const nowSeconds = this.now() / 1000;
    const iss = parsed.payload.iss;
    let verified: VerifiedBearer;
    let leeway: number;
    if (iss === this.own.issuer) {
      const claims = await verifyJwt(parsed, this.own.keys, this.ownRules, nowSeconds);
      if (typeof claims.jti !== 'string') throw invalidToken('token has no "jti"');
      verified = {
        principalId: claims.sub,
        ...ownSubject(claims),
        method: 'jwt',
        roles: stringArray(claims.roles),
        issuer: claims.iss,
        expiresAt: claims.exp,
        jti: claims.jti,
        clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
        scope: typeof claims.scope === 'string' ? claims.scope : undefined,
        claims,
      };
      leeway = this.own.leewaySeconds;
    } else {
      const external = typeof iss === 'string' ? this.externals.get(iss) : undefined;
      if (!external) throw invalidToken('token issuer not trusted');
      const identity = await external.verify(parsed, nowSeconds);
      const c = identity.claims;
      verified = {
        principalId: identity.subject,
        subjectKind: 'external',
        subjectIssuer: identity.issuer,
        method: 'oidc',
        roles: identity.roles,
        issuer: identity.issuer,
        expiresAt: c.exp,
        jti: c.jti,
        clientId: typeof c.client_id === 'string' ? c.client_id : typeof c.azp === 'string' ? c.azp : undefined,
        scope: typeof c.scope === 'string' ? c.scope : undefined,
        claims: c,
      };
      leeway = external.config.clockLeewaySeconds;
    }
    const nbf = verified.claims.nbf;
    // A token that is not valid yet is not cached: it would be served before its time otherwise.
    if (typeof nbf !== 'number' || nbf <= nowSeconds) this.cache.set(token, verified, (verified.expiresAt + leeway) * 1000);
    await this.checkRevoked(verified);
    return verified;
  }

  private async checkRevoked(v: VerifiedBearer): Promise<void> {
    if (v.method === 'jwt' && v.jti !== undefined && (await this.revocations.isRevoked(v.jti))) throw invalidToken('token revoked');
  }
}
