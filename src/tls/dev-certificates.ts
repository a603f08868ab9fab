/**
 * A development certificate authority in a directory: the CA, a server certificate for the
 * local host names and a client certificate for mutual TLS, so TLS can be tried in one command.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate, privateKeyPem } from './certificate-builder.js';

export interface DevCertificateOptions {
  /** Names the server certificate is valid for (DNS names and IP addresses). */
  hosts?: readonly string[];
  /** Common name of the client certificate: the identity an mTLS mapping refers to. */
  clientName?: string;
  /** Replace files that already exist. */
  force?: boolean;
}

export interface DevCertificateFiles {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

import { DEFAULT_DEV_CLIENT, DEFAULT_DEV_HOSTS } from './dev-names.js';

export { DEFAULT_DEV_CLIENT, DEFAULT_DEV_HOSTS };

export async function writeDevCertificates(dir: string, options: DevCertificateOptions = {}): Promise<DevCertificateFiles> {
  const files: DevCertificateFiles = {
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
  if (!options.force) {
    const present = Object.values(files).filter((f) => existsSync(f));
    if (present.length) throw new Error(`${present.join(', ')} already exist${present.length === 1 ? 's' : ''}; pass --force to replace them`);
  }
  const hosts = options.hosts?.length ? options.hosts : DEFAULT_DEV_HOSTS;
  const ca = await issueCertificate({ commonName: 'flightgate development CA', organization: 'flightgate (development only)', kind: 'ca', validDays: 3650 });
  const server = await issueCertificate({ commonName: hosts[0]!, kind: 'server', altNames: hosts, validDays: 397 }, ca);
  const client = await issueCertificate({ commonName: options.clientName ?? DEFAULT_DEV_CLIENT, kind: 'client', validDays: 397 }, ca);
  mkdirSync(dir, { recursive: true });
  const write = (path: string, text: string, secret: boolean): void => writeFileSync(path, text, { mode: secret ? 0o600 : 0o644 });
  write(files.caCert, ca.certificatePem, false);
  write(files.caKey, privateKeyPem(ca.privateKey), true);
  write(files.serverCert, server.certificatePem, false);
  write(files.serverKey, privateKeyPem(server.privateKey), true);
  write(files.clientCert, client.certificatePem, false);
  write(files.clientKey, privateKeyPem(client.privateKey), true);
  return files;
}
