/**
 * The one entry to authentication: picks the authenticator for the scheme a call presents,
 * handles password logins that open a session, and audits every outcome.
 */
import type { AuditSink } from '../audit/audit-log.js';
import { FlightgateError } from '../core/errors.js';
import { Status } from '../core/status.js';
import type { Principal } from '../core/principal.js';
import type { ClientCertificateState } from '../core/client-certificate.js';
import type { CertificateAuthenticator } from './certificate-authenticator.js';
import { AuthenticationFailure } from './authentication-failure.js';
import type { Authenticator, AuthOutcome, CallContext, IssuedToken } from './authenticator.js';
import type { PasswordLogin } from './password-login.js';
import { parseBasicCredentials } from './basic-credentials.js';
import type { SessionManager } from './sessions.js';

/**
 * Credentials as a call presents them: the `authorization` header, or a raw token in
 * `auth-token-bin`, and the connection's client certificate when it is mutual TLS.
 */
export interface PresentedCredentials {
  readonly authorization?: string;
  readonly tokenBin?: Uint8Array;
  readonly clientCertificate?: ClientCertificateState;
}

export const NO_CREDENTIALS_MESSAGE =
  'no credentials: log in with Handshake (authorization: Basic) and send authorization: Bearer <token> on each call';

export class AuthGate {
  private readonly byScheme = new Map<string, Authenticator>();

  constructor(
    readonly sessions: SessionManager,
    private readonly passwords: PasswordLogin,
    private readonly audit: AuditSink,
    authenticators: readonly Authenticator[],
    private readonly certificates?: CertificateAuthenticator,
  ) {
    for (const a of authenticators) this.byScheme.set(a.scheme, a);
  }

  /**
   * A certificate that failed verification refuses the call whatever else it carries; with a
   * header or token, that decides who calls (the certificate was then a transport requirement);
   * with neither, a verified certificate does.
   */
  private async byCertificate(creds: PresentedCredentials): Promise<AuthOutcome | undefined> {
    const cert = creds.clientCertificate;
    if (!cert || cert.kind === 'none') return undefined;
    if (cert.kind === 'rejected') {
      throw new AuthenticationFailure(`the client certificate was not accepted: ${cert.reason}`, `client certificate rejected: ${cert.reason}`);
    }
    if (creds.authorization?.trim() || (creds.tokenBin && creds.tokenBin.length > 0) || !this.certificates) return undefined;
    return { principal: this.certificates.authenticate(cert.certificate) };
  }

  private pick(creds: PresentedCredentials): { scheme: string; credential: string } {
    const header = creds.authorization?.trim();
    if (header) {
      const space = header.indexOf(' ');
      if (space <= 0) throw new AuthenticationFailure('malformed authorization header: expected "<scheme> <credentials>"', 'malformed header');
      return { scheme: header.slice(0, space).toLowerCase(), credential: header.slice(space + 1).trim() };
    }
    if (creds.tokenBin && creds.tokenBin.length > 0) {
      // The older Flight handshake style sends the token it got back in this binary header.
      return { scheme: 'bearer', credential: Buffer.from(creds.tokenBin).toString('utf8') };
    }
    throw new AuthenticationFailure(NO_CREDENTIALS_MESSAGE, 'no credentials');
  }

  async authenticate(creds: PresentedCredentials, ctx: CallContext): Promise<AuthOutcome> {
    // For the audit log and metrics: how the caller tried, from a fixed set (never the raw scheme).
    let method = creds.clientCertificate && creds.clientCertificate.kind !== 'none' ? 'mtls' : 'none';
    try {
      const byCertificate = await this.byCertificate(creds);
      if (byCertificate) {
        this.succeeded(byCertificate.principal, ctx);
        return byCertificate;
      }
      const { scheme, credential } = this.pick(creds);
      method = this.byScheme.has(scheme) ? scheme : 'other';
      const authenticator = this.byScheme.get(scheme);
      if (!authenticator) {
        throw new AuthenticationFailure(
          `unsupported authorization scheme "${scheme.slice(0, 32)}"; use ${[...this.byScheme.keys()].map(cap).join(' or ')}`,
          'unsupported scheme',
        );
      }
      const outcome = await authenticator.authenticate(credential, ctx);
      this.succeeded(outcome.principal, ctx);
      return outcome;
    } catch (err) {
      this.failed(err, ctx, undefined, method);
      throw err;
    }
  }

  /** A login with `authorization: Basic <encoded>` that opens a session (Handshake). */
  async loginBasic(encoded: string, ctx: CallContext): Promise<{ principal: Principal; issued: IssuedToken }> {
    let user: string;
    let password: string | undefined;
    try {
      ({ user, password } = parseBasicCredentials(encoded));
    } catch (err) {
      this.failed(err, ctx, undefined, 'basic');
      throw err;
    }
    return this.login(user, password, ctx);
  }

  /** A password login that opens a session (Handshake). */
  async login(user: string, password: string | undefined, ctx: CallContext): Promise<{ principal: Principal; issued: IssuedToken }> {
    try {
      const record = await this.passwords.verify(user, password, ctx);
      const issued = await this.sessions.create(record, ctx);
      const principal: Principal = { id: record.name, kind: 'user', method: 'basic', roles: record.roles };
      this.succeeded(principal, ctx);
      return { principal, issued };
    } catch (err) {
      this.failed(err, ctx, user, 'basic');
      throw err;
    }
  }

  private succeeded(principal: Principal, ctx: CallContext): void {
    this.audit.record({ event: 'auth.success', outcome: 'ok', principal: principal.id, kind: principal.kind, issuer: principal.issuer, method: principal.method, peer: ctx.peer, rpc: ctx.rpc });
  }

  private failed(err: unknown, ctx: CallContext, claimed: string | undefined, method: string): void {
    if (!(err instanceof FlightgateError)) return;
    if (err.status === Status.UNAUTHENTICATED) {
      const f = err instanceof AuthenticationFailure ? err : undefined;
      this.audit.record({
        event: 'auth.failure', outcome: 'denied', principal: f?.claimedPrincipal ?? claimed, method, peer: ctx.peer, rpc: ctx.rpc,
        reason: f?.auditReason ?? err.message,
      });
    } else {
      this.audit.record({ event: 'auth.failure', outcome: 'error', principal: claimed, method, peer: ctx.peer, rpc: ctx.rpc, reason: err.message });
    }
  }
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
