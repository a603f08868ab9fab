/**
 * A trusted external OpenID provider (Okta, Keycloak, Azure AD, Auth0…): its metadata from
 * discovery, its keys, the rules its access tokens must meet, and the mapping from a claim
 * (such as `groups`) to flightgate roles.
 */
import type { OidcIssuerConfig } from '../config/schema.js';
import type { VerifiedClaims } from './jwt-claims.js';
import type { ParsedJws } from './jws.js';
import { verifyJwt, type VerifierRules } from './jwt-verifier.js';
import { fetchJson, RemoteKeySet } from './remote-key-set.js';
import { invalidToken } from './token-error.js';

/** The parts of an issuer's discovery document flightgate uses. */
export interface IssuerMetadata {
  readonly issuer?: unknown;
  readonly jwks_uri?: unknown;
  readonly authorization_endpoint?: unknown;
  readonly token_endpoint?: unknown;
  readonly end_session_endpoint?: unknown;
}

export interface ExternalIdentity {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly claims: VerifiedClaims;
  readonly issuer: string;
}

function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export class ExternalIssuer {
  readonly keys: RemoteKeySet;
  private readonly rules: VerifierRules;
  /** Groups → roles. A Map: a group named `constructor` or `__proto__` must find nothing, not Object's own. */
  private readonly roleMap: ReadonlyMap<string, readonly string[]>;
  private jwksUri: Promise<string> | undefined;

  constructor(
    readonly config: OidcIssuerConfig,
    onFetch?: (outcome: 'ok' | 'failed', detail: string) => void,
  ) {
    this.roleMap = new Map(Object.entries(config.roleMap));
    this.rules = {
      issuer: config.issuer,
      audience: config.audience,
      leewaySeconds: config.clockLeewaySeconds,
      algorithms: config.algorithms,
      types: config.types,
    };
    this.keys = new RemoteKeySet({
      jwksUri: () => this.locateJwks(),
      cacheSeconds: config.jwksCacheSeconds,
      cooldownSeconds: config.jwksCooldownSeconds,
      onFetch,
    });
  }

  get issuer(): string {
    return this.config.issuer;
  }

  private discovered: Promise<IssuerMetadata> | undefined;

  /** The issuer's discovery document (OpenID, else RFC 8414), whose `issuer` must match exactly; fetched once. */
  metadata(): Promise<IssuerMetadata> {
    this.discovered ??= (async () => {
      const base = this.config.issuer.replace(/\/$/, '');
      let meta: unknown;
      try {
        meta = await fetchJson(`${base}/.well-known/openid-configuration`, 3000);
      } catch {
        meta = await fetchJson(`${base}/.well-known/oauth-authorization-server`, 3000);
      }
      const m = meta as IssuerMetadata;
      if (m.issuer !== this.config.issuer) throw new Error(`discovery for ${this.config.issuer} names another issuer (${String(m.issuer)})`);
      return m;
    })().catch((err: unknown) => {
      this.discovered = undefined;
      throw err;
    });
    return this.discovered;
  }

  /** The JWKS URI: configured, or from the issuer's discovery document. */
  private locateJwks(): Promise<string> {
    if (this.config.jwksUri) return Promise.resolve(this.config.jwksUri);
    this.jwksUri ??= (async () => {
      const m = await this.metadata();
      if (typeof m.jwks_uri !== 'string') throw new Error(`discovery for ${this.config.issuer} has no jwks_uri`);
      const jwks = new URL(m.jwks_uri);
      if (jwks.protocol !== 'https:' && new URL(this.config.issuer).protocol === 'https:') throw new Error('jwks_uri must use https');
      return m.jwks_uri;
    })().catch((err: unknown) => {
      this.jwksUri = undefined;
      throw err;
    });
    return this.jwksUri;
  }

  /** The identity claims name: the principal and the roles its groups map to. */
  identify(claims: VerifiedClaims): ExternalIdentity {
    const principalValue = claims[this.config.principalClaim];
    if (typeof principalValue !== 'string' || principalValue.length === 0 || principalValue.length > 256) {
      throw invalidToken(`token has no "${this.config.principalClaim}" claim to name the caller`);
    }
    const roles = new Set<string>();
    for (const group of claimValues(claims[this.config.rolesClaim])) {
      for (const role of this.roleMap.get(group) ?? []) roles.add(role);
    }
    return { subject: principalValue, roles: [...roles].sort(), claims, issuer: this.config.issuer };
  }

  async verify(parsed: ParsedJws, nowSeconds: number): Promise<ExternalIdentity> {
    return this.identify(await verifyJwt(parsed, this.keys, this.rules, nowSeconds));
  }
}
