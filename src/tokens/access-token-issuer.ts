/** Issues our access tokens: JWTs in the RFC 9068 shape, signed with the current key. */
import { randomUUID } from 'node:crypto';
import { signCompactJws } from './jws.js';
import { ACCESS_TOKEN_TYPE } from './jwt-bearer-verifier.js';
import type { SigningKeyRing } from './signing-keys.js';

/** What a token's subject is: claim `sub_kind`, since `sub` alone is unique only per kind. */
export type SubjectKindClaim = 'user' | 'client' | 'external';

export interface AccessTokenRequest {
  readonly subject: string;
  readonly subjectKind: SubjectKindClaim;
  readonly clientId: string;
  readonly scope: string;
  readonly roles: readonly string[];
  /** Extra claims, e.g. `act` for a delegation. */
  readonly extra?: Record<string, unknown>;
  /** Seconds since the epoch the token must not outlive (the end of what it was derived from). */
  readonly notAfter?: number;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresIn: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    readonly issuer: string,
    readonly audience: string,
    readonly lifetimeSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(request: AccessTokenRequest): Promise<IssuedAccessToken> {
    const signer = this.keys.signer;
    const nowMs = this.now();
    const iat = Math.floor(nowMs / 1000);
    // Rounded up, so the token lives at least `expires_in` seconds from now, never a fraction less.
    const exp = Math.min(Math.ceil(nowMs / 1000) + this.lifetimeSeconds, request.notAfter ?? Infinity);
    const jti = randomUUID();
    const payload = {
      iss: this.issuer,
      sub: request.subject,
      sub_kind: request.subjectKind,
      aud: this.audience,
      exp,
      iat,
      jti,
      client_id: request.clientId,
      scope: request.scope,
      roles: request.roles,
      ...request.extra,
    };
    const token = await signCompactJws({ alg: signer.alg, typ: ACCESS_TOKEN_TYPE, kid: signer.kid }, payload, signer.key);
    // Whole seconds the token lives at least from now (exp was rounded up from now).
    return { token, jti, expiresIn: Math.max(0, exp - Math.ceil(nowMs / 1000)), expiresAt: exp };
  }
}
