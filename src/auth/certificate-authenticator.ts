/**
 * Mutual TLS: a client certificate the TLS layer verified names a principal through the
 * configured mapping (`tls.clientPrincipals`). Subject alternative names are looked up first,
 * then the common name; a verified certificate nobody mapped gets nothing.
 */
import type { ClientCertificate } from '../core/client-certificate.js';
import type { Principal } from '../core/principal.js';
import { AuthenticationFailure } from './authentication-failure.js';

export interface CertificatePrincipal {
  /** The certificate name to match exactly: a common name or a DNS, e-mail or URI alternative name. */
  readonly subject: string;
  /** The principal's id (default: `subject`). */
  readonly principal?: string;
  readonly roles: readonly string[];
}

export class CertificateAuthenticator {
  private readonly bySubject = new Map<string, Principal>();

  constructor(mapping: readonly CertificatePrincipal[]) {
    for (const m of mapping) {
      this.bySubject.set(m.subject, Object.freeze({ id: m.principal ?? m.subject, kind: 'certificate' as const, method: 'mtls', roles: Object.freeze([...m.roles]) }));
    }
  }

  authenticate(cert: ClientCertificate): Principal {
    for (const name of [...cert.altNames, ...(cert.commonName !== undefined ? [cert.commonName] : [])]) {
      const principal = this.bySubject.get(name);
      if (principal) return principal;
    }
    const shown = (cert.commonName ?? cert.altNames[0] ?? '(no name)').slice(0, 128);
    throw new AuthenticationFailure(`the client certificate "${shown}" is not mapped to a principal (tls.clientPrincipals)`, 'unmapped client certificate', shown);
  }
}
