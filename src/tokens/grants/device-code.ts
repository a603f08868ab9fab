/**
 * The device code grant (RFC 8628 §3.4): the CLI's poll. Once the person approved on the web
 * page, the tokens are theirs: their subject, their roles at approval, an access token and a
 * refresh token bound to the public CLI client.
 */
import { GRANT_DEVICE_CODE } from '../../core/vocabulary.js';
import { DEVICE_CLIENT } from '../device-flow.js';
import { OAuthError } from '../oauth-error.js';
import type { GrantHandler } from './grant.js';

export const deviceCodeGrant: GrantHandler = async (s, req) => {
  if (!s.devices) throw new OAuthError('unsupported_grant_type', 'the device flow needs browser sign-in (oidc.issuers[].login)');
  const { approval } = await s.devices.redeem(req.params);
  const extra = approval.subjectIssuer ? { idp: approval.subjectIssuer } : {};
  const at = await s.issuer.issue({ subject: approval.subject, subjectKind: approval.subjectKind, clientId: DEVICE_CLIENT, scope: '', roles: approval.roles, extra });
  // A public client's family: refreshed without client authentication, as the CLI holds no secret.
  const refresh = await s.refresh.start({
    subject: approval.subject,
    subjectKind: approval.subjectKind,
    ...(approval.subjectIssuer ? { subjectIssuer: approval.subjectIssuer } : {}),
    scope: '',
    roles: approval.roles,
  });
  s.audit.record({ event: 'token.issued', outcome: 'ok', principal: approval.subject, kind: approval.subjectKind, method: 'device', grant: GRANT_DEVICE_CODE, client: DEVICE_CLIENT, jti: at.jti, peer: req.peer, ...(approval.subjectIssuer ? { issuer: approval.subjectIssuer } : {}) });
  return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, refresh_token: refresh };
};
