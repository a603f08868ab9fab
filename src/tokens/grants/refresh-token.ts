/** `refresh_token` (RFC 6749 §6) with rotation: every use returns a new refresh token. */
import { presentedClient } from '../client-authentication.js';
import { invalidGrant, invalidRequest, invalidScope } from '../oauth-error.js';
import type { GrantHandler } from './grant.js';

export const refreshTokenGrant: GrantHandler = async (s, req) => {
  const token = req.params.get('refresh_token');
  if (!token) throw invalidRequest('refresh_token is required');
  const presented = presentedClient(req.authorization, req.params);
  const client = presented ? await s.clients.authenticate(presented) : undefined;
  let roles: readonly string[] | undefined;
  // A password-grant family follows its user: disabled or deleted ends it, role changes apply.
  const { token: next, family } = await s.refresh.rotate(token, client?.clientId, async (f) => {
    if (f.subjectKind !== 'user') return;
    const user = await s.users.current(f.subject);
    if (!user) throw invalidGrant('the user of this refresh token is disabled or deleted');
    roles = user.roles;
  });
  roles ??= family.roles;
  const requested = req.params.get('scope');
  let scope = family.scope;
  if (requested !== undefined && requested.trim() !== '') {
    const granted = family.scope.split(' ');
    for (const p of requested.split(' ').filter(Boolean)) if (!granted.includes(p)) throw invalidScope(`scope "${p.slice(0, 64)}" exceeds the original grant`);
    scope = requested.trim();
  }
  const at = await s.issuer.issue({
    subject: family.subject,
    subjectKind: family.subjectKind,
    clientId: family.clientId ?? s.publicClientId,
    scope,
    roles,
    ...(family.subjectIssuer ? { extra: { idp: family.subjectIssuer } } : {}),
  });
  s.audit.record({ event: 'token.refreshed', outcome: 'ok', principal: family.subject, grant: 'refresh_token', client: family.clientId, jti: at.jti, peer: req.peer });
  return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, refresh_token: next, ...(scope ? { scope } : {}) };
};
