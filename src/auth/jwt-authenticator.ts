/** `authorization: Bearer eyJ…`: our JWTs and those of trusted external issuers. */
import { unavailable } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { isJwtShaped, type JwtBearerVerifier } from '../tokens/jwt-bearer-verifier.js';
import { TokenError } from '../tokens/token-error.js';
import type { AuthOutcome } from './authenticator.js';
import type { BearerKind } from './bearer-router.js';
import { AuthenticationFailure } from './authentication-failure.js';

export class JwtAuthenticator implements BearerKind {
  readonly name = 'a JWT access token';

  constructor(private readonly verifier: JwtBearerVerifier) {}

  accepts(token: string): boolean {
    return isJwtShaped(token);
  }

  async authenticate(token: string): Promise<AuthOutcome> {
    try {
      const v = await this.verifier.verify(token);
      const principal: Principal = {
        id: v.principalId,
        kind: v.subjectKind,
        ...(v.subjectIssuer !== undefined ? { issuer: v.subjectIssuer } : {}),
        method: v.method,
        roles: v.roles,
        claims: v.claims,
      };
      return { principal };
    } catch (err) {
      throw tokenErrorToStatus(err);
    }
  }
}

/** TokenError → Flight status: a bad token is UNAUTHENTICATED, an unreachable issuer UNAVAILABLE. */
export function tokenErrorToStatus(err: unknown): unknown {
  if (!(err instanceof TokenError)) return err;
  if (err.code === 'unavailable') return unavailable(`${err.message}; try again later`, err);
  return new AuthenticationFailure(`bearer token rejected: ${err.message}`, err.message);
}
