/** The development CA: certificates OpenSSL (through node:crypto) accepts for what they are meant for. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as der from '../../src/tls/der.js';
import { issueCertificate } from '../../src/tls/certificate-builder.js';
import { writeDevCertificates } from '../../src/tls/dev-certificates.js';
import { tempDir } from '../helpers/server.js';

const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';

test('DER: minimal integers, object identifiers, long lengths and named bits', () => {
  assert.deepEqual(der.unsignedInteger(Buffer.from([0, 0, 0x7f])), Buffer.from([0x02, 0x01, 0x7f]));
  assert.deepEqual(der.unsignedInteger(Buffer.from([0x80])), Buffer.from([0x02, 0x02, 0x00, 0x80]));
  assert.deepEqual(der.unsignedInteger(Buffer.from([0])), Buffer.from([0x02, 0x01, 0x00]));
  // 1.2.840.10045.4.3.2 (ecdsa-with-SHA256), as every X.509 parser knows it.
  assert.equal(der.objectIdentifier('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
  assert.deepEqual(der.octetString(Buffer.alloc(200)).subarray(0, 3), Buffer.from([0x04, 0x81, 200]));
  assert.deepEqual(der.octetString(Buffer.alloc(300)).subarray(0, 4), Buffer.from([0x04, 0x82, 0x01, 0x2c]));
  assert.deepEqual(der.namedBits([0]), Buffer.from([0x03, 0x02, 0x07, 0x80]));
  assert.deepEqual(der.namedBits([0, 5, 6]), Buffer.from([0x03, 0x02, 0x01, 0x86]));
  assert.equal(der.time(new Date('2049-12-31T23:59:59Z')).toString('latin1').slice(2), '491231235959Z');
  assert.equal(der.time(new Date('2050-01-01T00:00:00Z')).toString('latin1').slice(2), '20500101000000Z');
});

test('a CA, a server certificate for DNS and IP names, a client certificate: each verifies and says what it is for', () => {
  const ca = issueCertificate({ commonName: 'test CA', kind: 'ca', validDays: 30 });
  const server = issueCertificate({ commonName: 'localhost', kind: 'server', altNames: ['localhost', 'flight.example', '127.0.0.1', '::1', 'fd00::1:2'], validDays: 7 }, ca);
  const client = issueCertificate({ commonName: 'job-7', kind: 'client', validDays: 7 }, ca);
  const caCert = new X509Certificate(ca.certificatePem);
  const s = new X509Certificate(server.certificatePem);
  const c = new X509Certificate(client.certificatePem);
  assert.equal(caCert.ca, true);
  assert.ok(caCert.verify(caCert.publicKey));
  assert.equal(s.ca, false);
  assert.ok(s.verify(caCert.publicKey) && s.checkIssued(caCert));
  assert.ok(c.verify(caCert.publicKey) && c.checkIssued(caCert));
  assert.equal(s.checkHost('flight.example'), 'flight.example');
  assert.equal(s.checkHost('other.example'), undefined);
  assert.equal(s.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(s.checkIP('::1'), '::1');
  assert.equal(s.checkIP('fd00::1:2'), 'fd00::1:2');
  assert.deepEqual(s.keyUsage, [EKU_SERVER]);
  assert.deepEqual(c.keyUsage, [EKU_CLIENT]);
  assert.match(c.subject, /CN=job-7/);
  // Another CA's certificate does not verify against this one.
  const stranger = issueCertificate({ commonName: 'other CA', kind: 'ca', validDays: 30 });
  assert.equal(s.verify(new X509Certificate(stranger.certificatePem).publicKey), false);
  // Valid from a few minutes ago (clock skew) for the days asked.
  const days = (Date.parse(s.validTo) - Date.parse(s.validFrom)) / 86_400_000;
  assert.ok(days > 7 && days < 7.01, String(days));
  assert.throws(() => issueCertificate({ commonName: 'x', kind: 'server', validDays: 1 }), /needs an issuing CA/);
});

test('writeDevCertificates: six files, private keys 0600, never overwriting without force', () => {
  const dir = join(tempDir('fg-devca-'), 'certs');
  const files = writeDevCertificates(dir, { hosts: ['flight.internal', '10.1.2.3'], clientName: 'etl' });
  for (const key of [files.caKey, files.serverKey, files.clientKey]) assert.equal(statSync(key).mode & 0o777, 0o600, key);
  const server = new X509Certificate(readFileSync(files.serverCert));
  assert.equal(server.checkHost('flight.internal'), 'flight.internal');
  assert.equal(server.checkIP('10.1.2.3'), '10.1.2.3');
  assert.match(new X509Certificate(readFileSync(files.clientCert)).subject, /CN=etl/);
  writeFileSync(files.caCert, 'kept');
  assert.throws(() => writeDevCertificates(dir), /already exist.*--force/);
  assert.equal(readFileSync(files.caCert, 'utf8'), 'kept');
  writeDevCertificates(dir, { force: true });
  assert.ok(new X509Certificate(readFileSync(files.caCert)).ca);
});
