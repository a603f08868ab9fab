/** `client_credentials` (RFC 6749 §4.4): a machine authenticates as itself; no refresh token. */
import { grantScope } from '../scope.js';
import type { GrantHandler } from './grant.js';

export const clientCredentialsGrant: GrantHandler = async (s, req) => {
  const client = await s.clients.require(req.authorization, req.params);
  const scope = grantScope(req.params.get('scope'), client.scopes);
  const at = await s.issuer.issue({ subject: client.clientId, subjectKind: 'client', clientId: client.clientId, scope, roles: client.roles });
  s.audit.record({ event: 'token.issued', outcome: 'ok', principal: client.clientId, method: 'client_credentials', grant: 'client_credentials', client: client.clientId, jti: at.jti, peer: req.peer });
  return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, ...(scope ? { scope } : {}) };
};
