/**
 * The certificate, key and client CA named by `tls`, read once and checked to be usable, so a
 * bad file stops the start (or `config check`) with the setting's name instead of failing later.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../config/load.js';
import type { TlsConfig } from '../config/schema.js';

/** Certificate material as a TLS server takes it (the Flight transport and the HTTP service). */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** CA bundle client certificates are verified against; without it none is asked for. */
  clientCa?: Buffer;
  /** With `clientCa`: refuse calls without a valid client certificate. */
  requireClientCertificate?: boolean;
  /** PEM CRLs of the client CA. */
  clientCrl?: Buffer;
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`tls: cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function certificatesIn(pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new ConfigError(`tls: ${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new ConfigError(`tls: ${what} holds a certificate that cannot be read: ${(err as Error).message}`);
    }
  });
}

/** The files named by `tls`, read once and checked to be usable before any port is bound. */
export function loadTls(tls: TlsConfig): TlsMaterial {
  const material: TlsMaterial = {
    cert: readTlsFile(tls.certFile, 'certificate (tls.certFile)'),
    key: readTlsFile(tls.keyFile, 'key (tls.keyFile)'),
    ...(tls.clientCaFile ? { clientCa: readTlsFile(tls.clientCaFile, 'client CA (tls.clientCaFile)'), requireClientCertificate: tls.clientCertificates === 'required' } : {}),
    ...(tls.clientCrlFile ? { clientCrl: readTlsFile(tls.clientCrlFile, 'client CRL (tls.clientCrlFile)') } : {}),
  };
  if (material.clientCrl && !material.clientCrl.toString('latin1').includes('-----BEGIN X509 CRL-----')) {
    throw new ConfigError(`tls: tls.clientCrlFile ${tls.clientCrlFile} holds no PEM CRL (-----BEGIN X509 CRL-----)`);
  }
  // One file at a time, so the error names the one to fix.
  try {
    createSecureContext({ cert: material.cert });
  } catch (err) {
    throw new ConfigError(`tls.certFile: ${tls.certFile} cannot be used as the server certificate: ${(err as Error).message}`);
  }
  try {
    createSecureContext({ cert: material.cert, key: material.key });
  } catch (err) {
    const message = (err as Error).message;
    throw new ConfigError(
      /key values mismatch/i.test(message)
        ? `tls.keyFile: ${tls.keyFile} is not the key of the certificate in tls.certFile (${tls.certFile})`
        : `tls.keyFile: ${tls.keyFile} cannot be used as the server key: ${message}`,
    );
  }
  if (material.clientCa) {
    try {
      createSecureContext({ ca: material.clientCa });
    } catch (err) {
      throw new ConfigError(`tls.clientCaFile: ${tls.clientCaFile} cannot be used: ${(err as Error).message}`);
    }
  }
  if (material.clientCrl) {
    try {
      createSecureContext({ ...(material.clientCa ? { ca: material.clientCa } : {}), crl: material.clientCrl });
    } catch (err) {
      throw new ConfigError(`tls.clientCrlFile: ${tls.clientCrlFile} cannot be used: ${(err as Error).message}`);
    }
  }
  // OpenSSL skips what is not a certificate in a CA bundle: a wrong file would silently trust nobody.
  if (tls.clientCaFile && material.clientCa) certificatesIn(material.clientCa, `tls.clientCaFile ${tls.clientCaFile}`);
  return material;
}

