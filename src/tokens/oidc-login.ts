/**
 * Browser sign-in with an external OpenID provider: the authorization code flow with PKCE (S256),
 * `state` and `nonce`. `start` gives the URL to send the browser to and what must come back with
 * it (kept by the caller in a sealed cookie); `finish` exchanges the code and verifies the ID
 * token (signature from the issuer's JWKS, `iss`, `aud` = our client id, `exp`, `nonce`), and maps
 * its claims to an identity as bearer tokens of that issuer are mapped.
 */
import { createHash, createPrivateKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OidcIssuerConfig } from '../config/schema.js';
import type { ExternalIdentity, ExternalIssuer } from './external-issuer.js';
import { parseCompactJws, signCompactJws, type JwsAlgorithm } from './jws.js';
import { verifyJwt } from './jwt-verifier.js';

type LoginConfig = NonNullable<OidcIssuerConfig['login']>;

/** What the browser's return must match: kept sealed in a cookie between `start` and `finish`. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

export class LoginError extends Error {}

const random = (): string => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The key of a private_key_jwt client and the JWS algorithm it signs with. */
export interface ClientKey {
  readonly key: KeyObject;
  readonly alg: JwsAlgorithm;
  readonly kid?: string;
}

/** Reads a login's private key file (PEM) and picks its algorithm: ES256, RS256 or EdDSA. */
export function loadClientKey(file: string, kid?: string): ClientKey {
  const key = createPrivateKey(readFileSync(file));
  const type = key.asymmetricKeyType;
  const alg: JwsAlgorithm | undefined =
    type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ES256' : type === 'rsa' ? 'RS256' : type === 'ed25519' ? 'EdDSA' : undefined;
  if (!alg) throw new Error(`${file}: the key must be EC P-256, RSA or Ed25519 (it is ${type}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''})`);
  return { key, alg, ...(kid ? { kid } : {}) };
}

export class OidcLogin {
  constructor(
    readonly issuer: ExternalIssuer,
    private readonly login: LoginConfig,
    /** Our /callback, exactly as registered at the identity provider. */
    readonly redirectUri: string,
    /** For private_key_jwt client authentication. */
    private readonly clientKey?: ClientKey,
  ) {}

  get clientId(): string {
    return this.login.clientId;
  }

  get label(): string {
    return this.login.label ?? new URL(this.issuer.issuer).host;
  }

  private async endpoint(name: 'authorization_endpoint' | 'token_endpoint'): Promise<string> {
    const value = (await this.issuer.metadata())[name];
    if (typeof value !== 'string') throw new LoginError(`the identity provider ${this.issuer.issuer} publishes no ${name}`);
    return value;
  }

  async endSessionEndpoint(): Promise<string | undefined> {
    const value = (await this.issuer.metadata().catch(() => ({}) as Record<string, unknown>)).end_session_endpoint;
    return typeof value === 'string' ? value : undefined;
  }

  async start(): Promise<{ url: string; pending: PendingLogin }> {
    const pending = { state: random(), nonce: random(), verifier: random() };
    const url = new URL(await this.endpoint('authorization_endpoint'));
    const scopes = new Set(['openid', ...this.login.scopes]);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.login.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('scope', [...scopes].join(' '));
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('code_challenge', createHash('sha256').update(pending.verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url: url.toString(), pending };
  }

  /** Whether the browser came back with the state this sign-in started with. */
  stateMatches(state: unknown, pending: PendingLogin): boolean {
    return typeof state === 'string' && sameText(state, pending.state);
  }

  /** Checks the browser's return against `pending`, redeems the code, and verifies the ID token. */
  async finish(query: { code?: unknown; state?: unknown; error?: unknown }, pending: PendingLogin, nowSeconds: number): Promise<ExternalIdentity> {
    if (typeof query.error === 'string') throw new LoginError(`the identity provider refused the sign-in (${query.error.slice(0, 64)})`);
    if (!this.stateMatches(query.state, pending)) throw new LoginError('the sign-in came back with another state: start again');
    if (typeof query.code !== 'string' || query.code.length === 0 || query.code.length > 2048) throw new LoginError('the sign-in came back without a code');
    const body = new URLSearchParams({ grant_type: 'authorization_code', code: query.code, redirect_uri: this.redirectUri, code_verifier: pending.verifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const tokenEndpoint = await this.endpoint('token_endpoint');
    if (this.login.clientSecret) {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.login.clientId)}:${encodeURIComponent(this.login.clientSecret)}`).toString('base64')}`;
    } else if (this.clientKey) {
      // RFC 7523 §2.2: a short-lived assertion, for this token endpoint only, used once.
      const iat = Math.floor(Date.now() / 1000);
      const assertion = await signCompactJws(
        { alg: this.clientKey.alg, typ: 'JWT', ...(this.clientKey.kid ? { kid: this.clientKey.kid } : {}) },
        { iss: this.login.clientId, sub: this.login.clientId, aud: tokenEndpoint, jti: randomBytes(16).toString('base64url'), iat, exp: iat + 60 },
        this.clientKey.key,
      );
      body.set('client_id', this.login.clientId);
      body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      body.set('client_assertion', assertion);
    } else {
      body.set('client_id', this.login.clientId);
    }
    const res = await fetch(tokenEndpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
    const answer = (await res.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown };
    if (!res.ok || typeof answer.id_token !== 'string') {
      throw new LoginError(`the identity provider did not redeem the code (${typeof answer.error === 'string' ? answer.error.slice(0, 64) : `HTTP ${res.status}`}): start again`);
    }
    const cfg = this.issuer.config;
    let claims;
    try {
      claims = await verifyJwt(parseCompactJws(answer.id_token, 16 * 1024), this.issuer.keys, {
        issuer: cfg.issuer,
        audience: this.login.clientId,
        leewaySeconds: cfg.clockLeewaySeconds,
        algorithms: cfg.algorithms,
        // ID tokens are typed "JWT" or not at all.
        types: [],
      }, nowSeconds);
    } catch (err) {
      throw new LoginError(`the ID token was not valid: ${(err as Error).message}`);
    }
    if (typeof claims.nonce !== 'string' || !sameText(claims.nonce, pending.nonce)) throw new LoginError('the ID token carries another nonce: start again');
    try {
      return this.issuer.identify(claims);
    } catch (err) {
      throw new LoginError((err as Error).message);
    }
  }
}
