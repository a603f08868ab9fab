/**
 * Verifies a JWT against one issuer: header rules (algorithm allow-list, `typ`, no `crit`), the
 * key chosen by `kid` from the issuer's keys only (never from `jku`, `x5u` or an embedded
 * `jwk`), the signature, then the claims.
 */
import type { KeyObject } from 'node:crypto';
import { checkClaims, type ClaimRules, type VerifiedClaims } from './jwt-claims.js';
import { isJwsAlgorithm, verifyJwsSignature, type JwsAlgorithm, type ParsedJws } from './jws.js';
import { invalidToken } from './token-error.js';

/** Finds the verification key for a `kid`; may fetch (and throw TokenError `unavailable`). */
export interface KeyResolver {
  key(kid: string | undefined, alg: JwsAlgorithm): Promise<KeyObject | undefined>;
}

export interface VerifierRules extends ClaimRules {
  readonly algorithms: readonly JwsAlgorithm[];
  /** Accepted `typ` header values, compared case-insensitively without an `application/` prefix; empty accepts any. */
  readonly types: readonly string[];
}

const normalizeTyp = (typ: string): string => typ.toLowerCase().replace(/^application\//, '');

export async function verifyJwt(parsed: ParsedJws, keys: KeyResolver, rules: VerifierRules, nowSeconds: number): Promise<VerifiedClaims> {
  const { header } = parsed;
  const alg = header.alg;
  if (!isJwsAlgorithm(alg) || !rules.algorithms.includes(alg)) throw invalidToken(`token algorithm "${String(alg).slice(0, 16)}" not accepted`);
  // We understand no critical extension, so any `crit` makes the token unusable (RFC 7515 §4.1.11).
  if (header.crit !== undefined) throw invalidToken('token has critical header extensions ("crit") we do not support');
  if (rules.types.length) {
    const typ = typeof header.typ === 'string' ? normalizeTyp(header.typ) : '';
    if (!rules.types.some((t) => normalizeTyp(t) === typ)) throw invalidToken(`token type ("typ") must be ${rules.types.join(' or ')}`);
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length > 256)) throw invalidToken('token has a malformed "kid"');
  const key = await keys.key(header.kid, alg);
  if (!key) throw invalidToken('token signed with an unknown key');
  if (!verifyJwsSignature(alg, key, parsed)) throw invalidToken('token signature is invalid');
  return checkClaims(parsed.payload, rules, nowSeconds);
}
