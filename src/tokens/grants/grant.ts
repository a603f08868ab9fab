/** What every grant handler receives, and the services they share. */
import type { AuditSink } from '../../audit/audit-log.js';
import type { AccessTokenIssuer } from '../access-token-issuer.js';
import type { ClientAuthenticator } from '../client-authentication.js';
import type { FormParams } from '../form-params.js';
import type { JwtBearerVerifier } from '../jwt-bearer-verifier.js';
import type { RefreshTokens } from '../refresh-tokens.js';
import type { TokenResponse } from '../token-response.js';
import type { DeviceFlow } from '../device-flow.js';

export interface GrantRequest {
  readonly params: FormParams;
  readonly authorization?: string;
  readonly peer: string;
}

/** A user as the password and refresh grants need it. */
export interface GrantUser {
  readonly name: string;
  readonly roles: readonly string[];
}

export interface GrantUsers {
  /** Verifies a password (throttled); throws with a safe message on failure. */
  verifyPassword(user: string, password: string, peer: string): Promise<GrantUser>;
  /** The user's current state, undefined if deleted or disabled (refresh of a password-grant family). */
  current(name: string): Promise<GrantUser | undefined>;
}

export interface GrantServices {
  readonly issuer: AccessTokenIssuer;
  readonly clients: ClientAuthenticator;
  readonly refresh: RefreshTokens;
  readonly jwt: JwtBearerVerifier;
  readonly users: GrantUsers;
  readonly audit: AuditSink;
  readonly passwordGrant: boolean;
  /** client_id put in tokens obtained without client authentication. */
  readonly publicClientId: string;
  /** Device authorization requests (RFC 8628), when browser sign-in is configured. */
  readonly devices?: DeviceFlow;
  /** What a token exchange issues: whether a refresh token too, and for how long at most (0: the IdP token's expiry). */
  readonly exchange: { readonly refreshTokens: boolean; readonly maxLifetimeSeconds: number };
}

export type GrantHandler = (services: GrantServices, request: GrantRequest) => Promise<TokenResponse>;
