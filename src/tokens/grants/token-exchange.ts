/**
 * Token exchange (RFC 8693): an access token from a trusted external issuer in, our access
 * token out, with roles from the external token's group claim. Client authentication is
 * optional; when given, the tokens are bound to that client. What comes out ends no later than
 * the exchanged token (or `tokens.exchangeMaxLifetimeSeconds`): its roles are frozen at the
 * exchange, so it must not outlive the IdP's word. A refresh token only when configured.
 */
import { TokenError } from '../token-error.js';
import { invalidRequest, OAuthError } from '../oauth-error.js';
import { grantScope } from '../scope.js';
import { GRANT_TOKEN_EXCHANGE, TOKEN_TYPE_ACCESS, TOKEN_TYPE_JWT } from '../token-response.js';
import { presentedClient } from '../client-authentication.js';
import type { GrantHandler } from './grant.js';

const SUBJECT_TYPES = [TOKEN_TYPE_ACCESS, TOKEN_TYPE_JWT];

export const tokenExchangeGrant: GrantHandler = async (s, req) => {
  const p = req.params;
  const subjectToken = p.get('subject_token');
  const subjectType = p.get('subject_token_type');
  if (!subjectToken) throw invalidRequest('subject_token is required');
  if (!subjectType) throw invalidRequest('subject_token_type is required');
  if (!SUBJECT_TYPES.includes(subjectType)) throw invalidRequest(`subject_token_type must be ${SUBJECT_TYPES.join(' or ')}`);
  if (p.has('actor_token') || p.has('actor_token_type')) throw invalidRequest('delegation (actor_token) is not supported');
  const wanted = p.get('requested_token_type');
  if (wanted !== undefined && wanted !== TOKEN_TYPE_ACCESS && wanted !== TOKEN_TYPE_JWT) {
    throw invalidRequest(`requested_token_type must be ${TOKEN_TYPE_ACCESS}`);
  }
  for (const target of ['audience', 'resource'] as const) {
    const value = p.get(target);
    if (value !== undefined && value !== s.issuer.audience) throw new OAuthError('invalid_target', `this server issues tokens only for ${target} "${s.issuer.audience}"`);
  }
  const presented = presentedClient(req.authorization, p);
  const client = presented ? await s.clients.authenticate(presented) : undefined;

  let identity;
  try {
    identity = await s.jwt.verify(subjectToken);
  } catch (err) {
    if (err instanceof TokenError) {
      if (err.code === 'unavailable') throw new OAuthError('temporarily_unavailable', 'the subject token\'s issuer cannot be reached; try again later', 503);
      s.audit.record({ event: 'token.denied', outcome: 'denied', grant: GRANT_TOKEN_EXCHANGE, client: client?.clientId, peer: req.peer, reason: err.message });
      throw invalidRequest(`subject_token rejected: ${err.message}`);
    }
    throw err;
  }
  if (identity.method !== 'oidc') throw invalidRequest('subject_token must come from a trusted external issuer');
  const scope = client ? grantScope(p.get('scope'), client.scopes) : '';
  const clientId = client?.clientId ?? s.publicClientId;
  const extra = { idp: identity.issuer };
  const max = s.exchange.maxLifetimeSeconds;
  const notAfter = max > 0 ? Math.floor(Date.now() / 1000) + max : identity.expiresAt;
  const at = await s.issuer.issue({ subject: identity.principalId, subjectKind: 'external', clientId, scope, roles: identity.roles, extra, notAfter });
  const refresh = s.exchange.refreshTokens
    ? await s.refresh.start({ clientId: client?.clientId, subject: identity.principalId, subjectKind: 'external', subjectIssuer: identity.issuer, scope, roles: identity.roles }, notAfter * 1000)
    : undefined;
  s.audit.record({ event: 'token.issued', outcome: 'ok', principal: identity.principalId, method: 'oidc', grant: GRANT_TOKEN_EXCHANGE, client: client?.clientId, issuer: identity.issuer, jti: at.jti, peer: req.peer });
  return { access_token: at.token, issued_token_type: TOKEN_TYPE_ACCESS, token_type: 'Bearer', expires_in: at.expiresIn, ...(refresh ? { refresh_token: refresh } : {}), ...(scope ? { scope } : {}) };
};
