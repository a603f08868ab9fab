/** Builds JWTs byte by byte for attack tests: any header, any payload, any (or no) signature. */
import { createHmac, createPrivateKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';

export const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function signEs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject | JsonWebKey): string {
  const k = 'type' in key && typeof (key as KeyObject).export === 'function' ? (key as KeyObject) : createPrivateKey({ key: key as JsonWebKey, format: 'jwk' });
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

export function signHs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${b64json(header)}.${b64json(payload)}.${signature}`;
}

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
