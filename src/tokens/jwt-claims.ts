/** The registered-claim checks every JWT we accept must pass (RFC 7519 §4.1, RFC 9068 §4). */
import { invalidToken } from './token-error.js';

export interface ClaimRules {
  /** Exact match: `https://idp/` and `https://idp` are different issuers. */
  readonly issuer: string;
  readonly audience: string;
  readonly leewaySeconds: number;
}

export interface VerifiedClaims {
  readonly iss: string;
  readonly sub: string;
  readonly exp: number;
  readonly iat?: number;
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * `aud` must name us and only us: a token also meant for another service could be replayed to
 * us by that service, so an array is accepted only when its single member is our audience.
 */
function audienceMatches(aud: unknown, audience: string): boolean {
  if (typeof aud === 'string') return aud === audience;
  return Array.isArray(aud) && aud.length === 1 && aud[0] === audience;
}

export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, nowSeconds: number): VerifiedClaims {
  const { iss, sub, aud, exp, nbf, iat, jti } = payload;
  if (iss !== rules.issuer) throw invalidToken('token issuer not accepted');
  if (aud === undefined) throw invalidToken('token has no audience ("aud")');
  if (!audienceMatches(aud, rules.audience)) throw invalidToken('token audience ("aud") not accepted');
  if (!isNumericDate(exp)) throw invalidToken('token has no expiry ("exp")');
  // RFC 7519 §4.1.4: valid only before `exp`, so the instant itself is already too late.
  if (nowSeconds >= exp + rules.leewaySeconds) throw invalidToken('token expired');
  if (nbf !== undefined && (!isNumericDate(nbf) || nbf > nowSeconds + rules.leewaySeconds)) throw invalidToken('token not valid yet ("nbf")');
  if (iat !== undefined && (!isNumericDate(iat) || iat > nowSeconds + rules.leewaySeconds)) throw invalidToken('token issued in the future ("iat")');
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) throw invalidToken('token has no subject ("sub")');
  if (jti !== undefined && (typeof jti !== 'string' || jti.length > 256)) throw invalidToken('token has a malformed "jti"');
  return payload as VerifiedClaims;
}
