/**
 * The OAuth 2 token service behind the HTTP endpoints: the token endpoint's grants,
 * introspection (RFC 7662) and revocation (RFC 7009). HTTP concerns stay in http/.
 */
import { clientCredentialsGrant } from './grants/client-credentials.js';
import type { GrantHandler, GrantRequest, GrantServices } from './grants/grant.js';
import { passwordGrant } from './grants/password.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { tokenExchangeGrant } from './grants/token-exchange.js';
import { isJwtShaped, type VerifiedBearer } from './jwt-bearer-verifier.js';
import { invalidRequest, OAuthError } from './oauth-error.js';
import type { RevocationList } from '../stores/revocation-list.js';
import { TokenError } from './token-error.js';
import { GRANT_TOKEN_EXCHANGE, PUBLIC_EXCHANGE_CLIENT, type TokenResponse } from './token-response.js';
import { REFRESH_TOKEN_PREFIX } from './refresh-tokens.js';
import { GRANT_DEVICE_CODE, GRANT_TYPES, type GrantType } from '../core/vocabulary.js';
import { deviceCodeGrant } from './grants/device-code.js';
import { presentedClient } from './client-authentication.js';

/** One handler per grant type of the shared vocabulary: a type without a handler does not compile. */
const GRANTS: Record<GrantType, GrantHandler> = {
  client_credentials: clientCredentialsGrant,
  refresh_token: refreshTokenGrant,
  password: passwordGrant,
  [GRANT_TOKEN_EXCHANGE]: tokenExchangeGrant,
  [GRANT_DEVICE_CODE]: deviceCodeGrant,
};

export const SUPPORTED_GRANTS: readonly GrantType[] = GRANT_TYPES;

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

export class TokenService {
  constructor(
    private readonly s: GrantServices,
    private readonly revocations: RevocationList,
  ) {}

  get services(): GrantServices {
    return this.s;
  }

  /**
   * A failed client authentication is audited like a failed Flight login: the client id tried
   * (when one was given), how, from where, why; never the secret.
   */
  private async audited<T>(endpoint: string, req: GrantRequest, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'invalid_client') {
        let tried: { clientId: string; method: string } | undefined;
        try {
          tried = presentedClient(req.authorization, req.params);
        } catch {
          // malformed credentials: nothing more to name
        }
        this.s.audit.record({
          event: 'auth.failure', outcome: 'denied', principal: tried?.clientId.slice(0, 200), method: tried?.method ?? 'client', peer: req.peer,
          rpc: `HTTP ${endpoint}`, reason: err.description,
        });
      }
      throw err;
    }
  }

  token(req: GrantRequest): Promise<TokenResponse> {
    return this.audited('/oauth2/token', req, () => this.grant(req));
  }

  private async grant(req: GrantRequest): Promise<TokenResponse> {
    const grantType = req.params.get('grant_type');
    if (!grantType) throw invalidRequest('grant_type is required');
    const handler = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType as GrantType] : undefined;
    if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type "${grantType.slice(0, 80)}" is not supported; use ${SUPPORTED_GRANTS.join(', ')}`);
    if (grantType === 'password' && !this.s.passwordGrant) throw new OAuthError('unsupported_grant_type', 'the password grant is disabled (tokens.passwordGrant)');
    return handler(this.s, req);
  }

  /** Our own access token, verified and not revoked; undefined for anything else. */
  private async ownAccessToken(token: string): Promise<VerifiedBearer | undefined> {
    if (!isJwtShaped(token)) return undefined;
    try {
      const v = await this.s.jwt.verify(token);
      return v.method === 'jwt' ? v : undefined;
    } catch (err) {
      if (err instanceof TokenError && err.code === 'invalid') return undefined;
      throw err;
    }
  }

  introspect(req: GrantRequest): Promise<IntrospectionResponse> {
    return this.audited('/oauth2/introspect', req, () => this.inspect(req));
  }

  /** RFC 7662: for an authenticated client; refresh tokens only to the client they were issued to. */
  private async inspect(req: GrantRequest): Promise<IntrospectionResponse> {
    const client = await this.s.clients.require(req.authorization, req.params);
    const token = req.params.get('token');
    if (token === undefined) throw invalidRequest('token is required');
    if (token.startsWith(REFRESH_TOKEN_PREFIX)) {
      const family = await this.s.refresh.inspect(token);
      if (!family || family.clientId !== client.clientId) return { active: false };
      return {
        active: true,
        token_type: 'refresh_token',
        client_id: family.clientId,
        sub: family.subject,
        scope: family.scope,
        exp: Math.floor(family.expiresAt / 1000),
        iat: Math.floor(family.createdAt / 1000),
        iss: this.s.issuer.issuer,
      };
    }
    const v = await this.ownAccessToken(token);
    if (!v) return { active: false };
    const c = v.claims;
    return {
      active: true,
      token_type: 'Bearer',
      scope: v.scope ?? '',
      client_id: v.clientId,
      sub: v.principalId,
      aud: c.aud,
      iss: v.issuer,
      exp: v.expiresAt,
      iat: c.iat,
      jti: v.jti,
      roles: v.roles,
    };
  }

  /**
   * RFC 7009: revokes a refresh token's family or an access token's `jti`. Unknown or invalid
   * tokens get the same 200 as revoked ones; a token of another client is refused.
   */
  revoke(req: GrantRequest): Promise<void> {
    return this.audited('/oauth2/revoke', req, () => this.revokeToken(req));
  }

  private async revokeToken(req: GrantRequest): Promise<void> {
    const token = req.params.get('token');
    if (token === undefined) throw invalidRequest('token is required');
    const hint = req.params.get('token_type_hint');
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new OAuthError('unsupported_token_type', `token_type_hint "${hint.slice(0, 40)}" is not supported; use access_token or refresh_token`);
    }
    // Credentials that are presented are checked first, whatever the token (RFC 7009 §2.1).
    const presented = presentedClient(req.authorization, req.params);
    if (presented) await this.s.clients.authenticate(presented);
    const requireClient = async (owner: string | undefined): Promise<string | undefined> => {
      // Tokens obtained without a client (public token exchange) may be revoked by whoever holds them.
      if (owner === undefined || owner === PUBLIC_EXCHANGE_CLIENT) return undefined;
      const client = await this.s.clients.require(req.authorization, req.params);
      if (client.clientId !== owner) throw invalidRequest('the token was not issued to this client');
      return client.clientId;
    };
    if (token.startsWith(REFRESH_TOKEN_PREFIX)) {
      const found = await this.s.refresh.familyOf(token);
      if (!found) return;
      const client = await requireClient(found.family.clientId);
      await this.s.refresh.revoke(token, 'revoked by the client');
      this.s.audit.record({ event: 'token.revoked', outcome: 'ok', principal: found.family.subject, client, peer: req.peer, reason: 'refresh token family' });
      return;
    }
    const v = await this.ownAccessToken(token);
    if (!v || v.jti === undefined) return;
    const client = await requireClient(v.clientId);
    await this.revocations.revoke(v.jti, (v.expiresAt + 60) * 1000);
    this.s.audit.record({ event: 'token.revoked', outcome: 'ok', principal: v.principalId, client, jti: v.jti, peer: req.peer, reason: 'access token' });
  }
}
