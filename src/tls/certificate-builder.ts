/**
 * X.509 v3 certificates (RFC 5280) for development certificate authorities: a CA, server
 * certificates with DNS and IP names, client certificates for mutual TLS, and CRLs. The encoding
 * is @peculiar/x509's (certificate encoding is security-sensitive; a maintained library does it),
 * with ECDSA P-256 keys from Node's Web Crypto.
 */
// @peculiar/x509 resolves its ASN.1 serialisers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type WebCrypto = Parameters<typeof x509.cryptoProvider.set>[0];

x509.cryptoProvider.set(webcrypto as unknown as WebCrypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

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
  /** The parsed certificate, to name it as the issuer of what it signs. */
  readonly certificate: x509.X509Certificate;
  /** The serial number, hex (what a CRL names to revoke it). */
  readonly serial: string;
  readonly signingKey: CryptoKey;
}

/** A distinguished name from JSON, so a value is never parsed as RFC 4514 text (a comma in a name stays a comma). */
function distinguishedName(commonName: string, organization?: string): x509.JsonName {
  return [...(organization ? [{ O: [organization] }] : []), { CN: [commonName] }];
}

/** A positive 16-byte serial whose first byte keeps it minimal and non-zero. */
function serialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial.toString('hex');
}

/**
 * Issues a certificate for a new P-256 key: self-signed when `issuer` is omitted (a root CA),
 * else signed by `issuer`.
 */
export async function issueCertificate(request: CertificateRequest, issuer?: IssuedCertificate, now = new Date()): Promise<IssuedCertificate> {
  if (request.kind !== 'ca' && !issuer) throw new Error('an end-entity certificate needs an issuing CA');
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const { KeyUsageFlags } = x509;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(request.kind === 'ca', request.kind === 'ca' ? 0 : undefined, true),
    new x509.KeyUsagesExtension(
      request.kind === 'ca' ? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate, false));
  if (request.kind !== 'ca') extensions.push(new x509.ExtendedKeyUsageExtension([request.kind === 'server' ? OID_SERVER_AUTH : OID_CLIENT_AUTH]));
  if (request.altNames?.length) {
    extensions.push(new x509.SubjectAlternativeNameExtension(request.altNames.map((v) => ({ type: isIP(v) ? ('ip' as const) : ('dns' as const), value: v }))));
  }
  const subject = distinguishedName(request.commonName, request.organization);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: issuer ? issuer.certificate.subjectName : subject,
    notBefore: new Date(now.getTime() - 5 * 60_000), // tolerate a slightly slow clock
    notAfter: new Date(now.getTime() + request.validDays * 86_400_000),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: issuer ? issuer.signingKey : keys.privateKey,
    extensions,
  });
  return {
    certificatePem: certificate.toString('pem') + '\n',
    privateKey: KeyObject.from(keys.privateKey),
    publicKey: KeyObject.from(keys.publicKey),
    certificate,
    serial: certificate.serialNumber,
    signingKey: keys.privateKey,
  };
}

/** A CRL (RFC 5280 §5) signed by `issuer`, revoking `revoked`, valid for `validDays`. */
export async function issueCrl(issuer: IssuedCertificate, revoked: readonly IssuedCertificate[], validDays: number, now = new Date()): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subjectName,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + validDays * 86_400_000),
    entries: revoked.map((c) => ({ serialNumber: c.serial, revocationDate: now })),
    signingAlgorithm: ALGORITHM,
    signingKey: issuer.signingKey,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate, false)],
  });
  // RFC 7468 names it X509 CRL, which is what OpenSSL and our CRL loader read.
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL') + '\n';
}

export const privateKeyPem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();
