/** Reads a TLS connection's client certificate once per connection, for every call on it. */
import type { Http2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { NO_CLIENT_CERTIFICATE, type ClientCertificateState } from '../../core/client-certificate.js';

const byConnection = new WeakMap<Http2Session, ClientCertificateState>();

/** SAN types an mTLS mapping may name; IP addresses are left out on purpose (they identify networks, not clients). */
const NAMED_SAN = /^(DNS|email|URI):(.+)$/;

function read(socket: TLSSocket): ClientCertificateState {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return NO_CLIENT_CERTIFICATE;
  if (!socket.authorized) return { kind: 'rejected', reason: String(socket.authorizationError ?? 'not verified') };
  const cn = cert.subject?.CN;
  const altNames: string[] = [];
  for (const entry of (cert.subjectaltname ?? '').split(', ')) {
    const m = NAMED_SAN.exec(entry.trim());
    if (m) altNames.push(m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return { kind: 'verified', certificate: { commonName: Array.isArray(cn) ? cn[0] : cn, altNames, fingerprint256: cert.fingerprint256 } };
}

export function clientCertificateOf(session: Http2Session | undefined): ClientCertificateState {
  if (!session) return NO_CLIENT_CERTIFICATE;
  let state = byConnection.get(session);
  if (!state) {
    const socket = session.socket as TLSSocket;
    state = typeof socket.getPeerCertificate === 'function' ? read(socket) : NO_CLIENT_CERTIFICATE;
    byConnection.set(session, state);
  }
  return state;
}
