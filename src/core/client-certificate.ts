/** A client certificate the TLS layer verified against the configured CA (mutual TLS). */
export interface ClientCertificate {
  /** Subject common name, when there is one. */
  readonly commonName?: string;
  /** Subject alternative names, values only: DNS names, e-mail addresses, URIs (e.g. SPIFFE IDs). */
  readonly altNames: readonly string[];
  /** SHA-256 fingerprint, for the audit log. */
  readonly fingerprint256: string;
}

/** What the TLS layer says about a connection's client certificate. */
export type ClientCertificateState =
  | { readonly kind: 'none' }
  | { readonly kind: 'verified'; readonly certificate: ClientCertificate }
  /** Presented but not verified (unknown CA, expired…): never a basis for trust. */
  | { readonly kind: 'rejected'; readonly reason: string };

export const NO_CLIENT_CERTIFICATE: ClientCertificateState = Object.freeze({ kind: 'none' });
