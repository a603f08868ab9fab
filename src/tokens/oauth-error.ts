/** An OAuth 2 error response (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 8693 §2.2.2). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'server_error'
  // RFC 8628 §3.5, while a device code is polled
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'access_denied';

export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    /** HTTP status: 400 for most; 401 for a failed client authentication; 503 when a store is down. */
    readonly status = 400,
    /** A `WWW-Authenticate` challenge, sent with 401 when the client used HTTP authentication. */
    readonly challenge?: string,
  ) {
    super(description);
  }
}

export const invalidRequest = (d: string): OAuthError => new OAuthError('invalid_request', d);
export const invalidGrant = (d: string): OAuthError => new OAuthError('invalid_grant', d);
export const invalidScope = (d: string): OAuthError => new OAuthError('invalid_scope', d);
