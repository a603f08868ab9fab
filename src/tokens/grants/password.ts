/**
 * `password` (RFC 6749 §4.3): only when enabled in the configuration, since RFC 9700 §2.4 says
 * it must not be used. Logins are throttled like every other password login.
 */
import { presentedClient } from '../client-authentication.js';
import { invalidRequest, OAuthError } from '../oauth-error.js';
import { grantScope } from '../scope.js';
import type { GrantHandler } from './grant.js';

export const passwordGrant: GrantHandler = async (s, req) => {
  if (!s.passwordGrant) throw new OAuthError('unsupported_grant_type', 'the password grant is disabled (tokens.passwordGrant)');
  const username = req.params.get('username');
  const password = req.params.get('password');
  if (!username || password === undefined) throw invalidRequest('username and password are required');
  const presented = presentedClient(req.authorization, req.params);
  const client = presented ? await s.clients.authenticate(presented) : undefined;
  const user = await s.users.verifyPassword(username, password, req.peer);
  const scope = client ? grantScope(req.params.get('scope'), client.scopes) : '';
  const clientId = client?.clientId ?? s.publicClientId;
  const at = await s.issuer.issue({ subject: user.name, subjectKind: 'user', clientId, scope, roles: user.roles });
  const refresh = await s.refresh.start({ clientId: client?.clientId, subject: user.name, subjectKind: 'user', scope, roles: user.roles });
  s.audit.record({ event: 'token.issued', outcome: 'ok', principal: user.name, method: 'password', grant: 'password', client: client?.clientId, jti: at.jti, peer: req.peer });
  return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, refresh_token: refresh, ...(scope ? { scope } : {}) };
};
