/** The development CA: certificates OpenSSL (through node:crypto) accepts for what they are meant for. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { issueCertificate } from '../../src/tls/certificate-builder.js';
import { writeDevCertificates } from '../../src/tls/dev-certificates.js';
import { tempDir } from '../helpers/server.js';

const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';

test('a CA, a server certificate for DNS and IP names, a client certificate: each verifies and says what it is for', async () => {
  const ca = await issueCertificate({ commonName: 'test CA', kind: 'ca', validDays: 30 });
  const server = await issueCertificate({ commonName: 'localhost', kind: 'server', altNames: ['localhost', 'flight.example', '127.0.0.1', '::1', 'fd00::1:2'], validDays: 7 }, ca);
  const client = await issueCertificate({ commonName: 'job-7', kind: 'client', validDays: 7 }, ca);
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
  const stranger = await issueCertificate({ commonName: 'other CA', kind: 'ca', validDays: 30 });
  assert.equal(s.verify(new X509Certificate(stranger.certificatePem).publicKey), false);
  // Valid from a few minutes ago (clock skew) for the days asked.
  const days = (Date.parse(s.validTo) - Date.parse(s.validFrom)) / 86_400_000;
  assert.ok(days > 7 && days < 7.01, String(days));
  await assert.rejects(issueCertificate({ commonName: 'x', kind: 'server', validDays: 1 }), /needs an issuing CA/);
  // Serials are positive, minimal and 16 bytes long.
  assert.equal(s.serialNumber.length, 32);
  assert.ok(parseInt(s.serialNumber.slice(0, 2), 16) >= 0x40 && parseInt(s.serialNumber.slice(0, 2), 16) < 0x80);
});

test('a name is a value, never parsed as a distinguished name: commas and equals signs stay in the common name', async () => {
  const ca = await issueCertificate({ commonName: 'test CA', kind: 'ca', validDays: 1 });
  const client = new X509Certificate((await issueCertificate({ commonName: 'etl, O=admins', kind: 'client', validDays: 1 }, ca)).certificatePem);
  assert.equal(client.subject, 'CN=etl\\, O=admins', 'one common name, its comma escaped; no organisation');
});

test('writeDevCertificates: six files, private keys 0600, never overwriting without force', async () => {
  const dir = join(tempDir('fg-devca-'), 'certs');
  const files = await writeDevCertificates(dir, { hosts: ['flight.internal', '10.1.2.3'], clientName: 'etl' });
  for (const key of [files.caKey, files.serverKey, files.clientKey]) assert.equal(statSync(key).mode & 0o777, 0o600, key);
  const server = new X509Certificate(readFileSync(files.serverCert));
  assert.equal(server.checkHost('flight.internal'), 'flight.internal');
  assert.equal(server.checkIP('10.1.2.3'), '10.1.2.3');
  assert.match(new X509Certificate(readFileSync(files.clientCert)).subject, /CN=etl/);
  writeFileSync(files.caCert, 'kept');
  await assert.rejects(writeDevCertificates(dir), /already exist.*--force/);
  assert.equal(readFileSync(files.caCert, 'utf8'), 'kept');
  await writeDevCertificates(dir, { force: true });
  assert.ok(new X509Certificate(readFileSync(files.caCert)).ca);
});
