/**
 * The closed name lists the rest of the code shares: OAuth grant types, authentication methods
 * as audited. Each is defined once, here; the token service's grant table, the audit events'
 * types, the metrics labels, the discovery metadata and the OpenAPI document all derive from it.
 */
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export const GRANT_DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

export const GRANT_TYPES = ['client_credentials', 'refresh_token', GRANT_TOKEN_EXCHANGE, GRANT_DEVICE_CODE, 'password'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/**
 * How a caller proved who it is, as audit lines and metrics name it: the scheme tried (`basic`,
 * `bearer`), or what a bearer turned out to be, or `mtls`; `none` without credentials, `other`
 * for an unsupported scheme.
 */
export const AUTH_METHODS = ['basic', 'bearer', 'session', 'jwt', 'oidc', 'apikey', 'mtls', 'none', 'other'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
