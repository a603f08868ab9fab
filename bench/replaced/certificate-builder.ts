// The implementation flightgate used before this library replaced it; kept only as the baseline of bench/library-choices.mts.
/**
 * Builds and signs X.509 v3 certificates (RFC 5280) with ECDSA P-256 keys from node:crypto, for
 * development certificate authorities: a CA, server certificates with DNS and IP names, client
 * certificates for mutual TLS.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as der from './der.js';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
const DIGITAL_SIGNATURE = 0;
const KEY_CERT_SIGN = 5;
const CRL_SIGN = 6;

export interface CertificateRequest {
  commonName: string;
  organization?: string;
  /** DNS names and IP addresses (IPv4 or IPv6) the certificate is valid for. */
  altNames?: readonly string[];
  /** `ca`: may sign certificates; `server` / `client`: a TLS end entity. */
  kind: 'ca' | 'server' | 'client';
  validDays: number;
}

export interface IssuedCertificate {
  /** PEM of the certificate. */
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The subject name, reused as the issuer name of what this certificate signs. */
  readonly subjectName: Buffer;
  readonly keyIdentifier: Buffer;
  /** The serial number's bytes (what a CRL names to revoke it). */
  readonly serial: Buffer;
}

const algorithm = der.sequence(der.objectIdentifier(OID.ecdsaWithSha256));

function name(commonName: string, organization?: string): Buffer {
  const rdn = (oid: string, value: string): Buffer => der.set(der.sequence(der.objectIdentifier(oid), der.utf8String(value)));
  return der.sequence(...(organization ? [rdn(OID.organization, organization)] : []), rdn(OID.commonName, commonName));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.objectIdentifier(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write the eight groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

function altName(value: string): Buffer {
  // GeneralName: [2] dNSName, [7] iPAddress (RFC 5280 §4.2.1.6).
  return isIP(value) ? der.implicitPrimitive(7, ipBytes(value)) : der.implicitPrimitive(2, Buffer.from(value, 'ascii'));
}

const PEM_LINE = /.{1,64}/g;
const pem = (label: string, body: Buffer): string => `-----BEGIN ${label}-----\n${body.toString('base64').match(PEM_LINE)!.join('\n')}\n-----END ${label}-----\n`;

/**
 * Issues a certificate for a new P-256 key: self-signed when `issuer` is omitted (a root CA),
 * else signed by `issuer`.
 */
export function issueCertificate(request: CertificateRequest, issuer?: IssuedCertificate, now = new Date()): IssuedCertificate {
  if (request.kind !== 'ca' && !issuer) throw new Error('an end-entity certificate needs an issuing CA');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // RFC 5280 §4.2.1.2 method 1 takes SHA-1 of the key's bits; any stable unique value is allowed.
  const keyIdentifier = createHash('sha256').update(spki).digest().subarray(0, 20);
  const subjectName = name(request.commonName, request.organization);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, minimal, never zero
  const notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate a slightly slow clock
  const notAfter = new Date(now.getTime() + request.validDays * 86_400_000);

  const extensions: Buffer[] = [
    extension(OID.basicConstraints, true, request.kind === 'ca' ? der.sequence(der.boolean(true), der.smallInteger(0)) : der.sequence()),
    extension(OID.keyUsage, true, der.namedBits(request.kind === 'ca' ? [DIGITAL_SIGNATURE, KEY_CERT_SIGN, CRL_SIGN] : [DIGITAL_SIGNATURE])),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier)),
  ];
  if (issuer) extensions.push(extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicitPrimitive(0, issuer.keyIdentifier))));
  if (request.kind !== 'ca') {
    extensions.push(extension(OID.extKeyUsage, false, der.sequence(der.objectIdentifier(request.kind === 'server' ? OID.serverAuth : OID.clientAuth))));
  }
  if (request.altNames?.length) extensions.push(extension(OID.subjectAltName, false, der.sequence(...request.altNames.map(altName))));

  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(serial),
    algorithm,
    issuer ? issuer.subjectName : subjectName,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    subjectName,
    spki,
    der.explicit(3, der.sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: issuer ? issuer.privateKey : privateKey, dsaEncoding: 'der' });
  const certificate = der.sequence(tbs, algorithm, der.bitString(signature));
  return { certificatePem: pem('CERTIFICATE', certificate), privateKey, publicKey, subjectName, keyIdentifier, serial };
}

/** A CRL (RFC 5280 §5) signed by `issuer`, revoking `revoked`, valid for `validDays`. */
export function issueCrl(issuer: IssuedCertificate, revoked: readonly IssuedCertificate[], validDays: number, now = new Date()): string {
  const entries = revoked.map((c) => der.sequence(der.unsignedInteger(c.serial), der.time(now)));
  const tbs = der.sequence(
    der.smallInteger(1), // v2
    algorithm,
    issuer.subjectName,
    der.time(now),
    der.time(new Date(now.getTime() + validDays * 86_400_000)),
    ...(entries.length ? [der.sequence(...entries)] : []),
    der.explicit(0, der.sequence(extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicitPrimitive(0, issuer.keyIdentifier))))),
  );
  const signature = sign('sha256', tbs, { key: issuer.privateKey, dsaEncoding: 'der' });
  return pem('X509 CRL', der.sequence(tbs, algorithm, der.bitString(signature)));
}

export const privateKeyPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();
