/**
 * Compact JWS (RFC 7515) on node:crypto: parsing that refuses anything unexpected, signing and
 * signature checks. Only asymmetric algorithms exist here, so an HMAC "signed" with a public key
 * (the classic key-confusion attack) and `alg: none` cannot verify whatever the allow-list says.
 */
import { constants, createHash, sign, verify, type KeyObject } from 'node:crypto';
import { duplicateMember, isCanonicalBase64url } from '../core/strict-encoding.js';
import { invalidToken } from './token-error.js';

/** `Ed25519` is RFC 9864's name for what `EdDSA` meant with an Ed25519 key; both are read, we write `Ed25519`. */
export const ALGORITHMS = ['ES256', 'ES384', 'Ed25519', 'EdDSA', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export type JwsAlgorithm = (typeof ALGORITHMS)[number];

interface AlgorithmSpec {
  readonly hash: string | null;
  readonly keyType: 'ec' | 'rsa' | 'ed25519';
  readonly curve?: string;
  /** RSASSA-PSS with a salt as long as the hash (RFC 7518 §3.5). */
  readonly pssSalt?: number;
}

const SPECS: Record<JwsAlgorithm, AlgorithmSpec> = {
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1' },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1' },
  Ed25519: { hash: null, keyType: 'ed25519' },
  EdDSA: { hash: null, keyType: 'ed25519' },
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  RS512: { hash: 'sha512', keyType: 'rsa' },
  PS256: { hash: 'sha256', keyType: 'rsa', pssSalt: 32 },
  PS384: { hash: 'sha384', keyType: 'rsa', pssSalt: 48 },
  PS512: { hash: 'sha512', keyType: 'rsa', pssSalt: 64 },
};

export const isJwsAlgorithm = (alg: unknown): alg is JwsAlgorithm => typeof alg === 'string' && Object.hasOwn(SPECS, alg);

export interface JoseHeader {
  readonly alg: string;
  readonly kid?: string;
  readonly typ?: string;
  readonly crit?: unknown;
  readonly [name: string]: unknown;
}

export interface ParsedJws {
  readonly header: JoseHeader;
  readonly payload: Record<string, unknown>;
  /** `base64url(header) "." base64url(payload)`: the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  // Non-canonical base64url decodes to the same bytes as its canonical form: refused, so one
  // token has one spelling (caches, revocation lists and logs key on the text).
  if (!B64URL.test(part) || !isCanonicalBase64url(part)) throw invalidToken(`malformed token: the ${what} is not canonical base64url`);
  let value: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url'));
    value = JSON.parse(text);
  } catch {
    throw invalidToken(`malformed token: the ${what} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidToken(`malformed token: the ${what} is not a JSON object`);
  const twice = duplicateMember(text);
  if (twice !== undefined) throw invalidToken(`malformed token: the ${what} names "${twice.slice(0, 40)}" twice`);
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS without checking anything but its shape. */
export function parseCompactJws(token: string, maxLength: number): ParsedJws {
  if (token.length > maxLength) throw invalidToken(`token too large (over ${maxLength} characters)`);
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) {
    throw invalidToken('malformed token: expected a signed JWT (header.payload.signature)');
  }
  const signaturePart = token.slice(second + 1);
  if (!B64URL.test(signaturePart) || !isCanonicalBase64url(signaturePart)) throw invalidToken('malformed token: the signature is missing or not canonical base64url');
  const header = decodeJsonPart(token.slice(0, first), 'header');
  if (typeof header.alg !== 'string') throw invalidToken('malformed token: the header has no "alg"');
  return {
    header: header as JoseHeader,
    payload: decodeJsonPart(token.slice(first + 1, second), 'payload'),
    signingInput: token.slice(0, second),
    signature: Buffer.from(signaturePart, 'base64url'),
  };
}

/** Whether `key` is the kind of key `alg` needs (an RSA key never verifies an ES256 token, and so on). */
export function keyFitsAlgorithm(alg: JwsAlgorithm, key: KeyObject): boolean {
  const spec = SPECS[alg];
  if (key.type !== 'public' && key.type !== 'private') return false;
  if (key.asymmetricKeyType !== spec.keyType && !(spec.keyType === 'rsa' && key.asymmetricKeyType === 'rsa-pss')) return false;
  if (spec.curve && key.asymmetricKeyDetails?.namedCurve !== spec.curve) return false;
  return true;
}

export function verifyJwsSignature(alg: JwsAlgorithm, key: KeyObject, parsed: ParsedJws): boolean {
  const spec = SPECS[alg];
  if (!keyFitsAlgorithm(alg, key)) return false;
  const data = Buffer.from(parsed.signingInput, 'ascii');
  try {
    return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363', ...(spec.pssSalt ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pssSalt } : {}) }, parsed.signature);
  } catch {
    return false;
  }
}

/**
 * Signs `payload` as a compact JWS with `header` (which must name `alg`). The signature is made on
 * libuv's thread pool: at a few thousand tokens per second it is the largest single cost of the
 * token endpoint, and off the event loop it runs on another core while the loop answers requests.
 */
export function signCompactJws(header: JoseHeader & { alg: JwsAlgorithm }, payload: object, key: KeyObject): Promise<string> {
  const spec = SPECS[header.alg];
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const options = { key, dsaEncoding: 'ieee-p1363' as const, ...(spec.pssSalt ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pssSalt } : {}) };
  return new Promise((resolve, reject) => {
    sign(spec.hash, Buffer.from(input, 'ascii'), options, (err, signature) => {
      if (err) reject(err);
      else resolve(`${input}.${signature.toString('base64url')}`);
    });
  });
}

/** A cache key for a token that does not keep the token itself in memory longer than needed. */
export const tokenDigest = (token: string): string => createHash('sha256').update(token).digest('base64url');
