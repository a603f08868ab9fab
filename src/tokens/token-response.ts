/** The successful token endpoint answer (RFC 6749 §5.1, RFC 8693 §2.2.1). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope?: string;
  readonly refresh_token?: string;
  readonly issued_token_type?: string;
}

export const TOKEN_TYPE_ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';
export { GRANT_TOKEN_EXCHANGE } from '../core/vocabulary.js';
/** The client_id our tokens carry when a token exchange was made without client authentication. */
export const PUBLIC_EXCHANGE_CLIENT = 'flightgate-token-exchange';
