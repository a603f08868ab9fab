/**
 * The AccessControl that puts authentication and authorization on every Flight call: it reads
 * credentials from the call's metadata, asks the AuthGate who is calling, and checks the policy.
 * The decisions are made in auth/ and authz/; this file only translates between them and gRPC.
 */
import type { AuditSink } from '../audit/audit-log.js';
import type { AuthGate } from '../auth/auth-gate.js';
import type { CallContext, IssuedToken } from '../auth/authenticator.js';
import type { UserDirectory } from '../auth/user-directory.js';
import type { ReadScope } from '../authz/policy.js';
import type { DatasetAction } from '../core/actions.js';
import { permissionDenied } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { AccessControl, DataAccess, HandshakeOutcome, QueryAudit, RefreshedSession } from './access.js';
import { decodeBasicAuth, type BasicAuth } from './proto/messages.js';
import type { ServerCall } from './transport/call.js';
import type { UsageLimits } from '../authz/usage-limits.js';

export class SecuredAccess implements AccessControl {
  constructor(
    private readonly gate: AuthGate,
    private readonly directory: UserDirectory,
    private readonly audit: AuditSink,
    private readonly limits?: UsageLimits,
  ) {}

  private context(call: ServerCall, rpc: string): CallContext {
    return { rpc, peer: call.peer };
  }

  /** Hands a session token to the client the way Flight clients look for it: header and trailer. */
  private announce(call: ServerCall, issued: IssuedToken): void {
    call.setHeader('authorization', `Bearer ${issued.token}`);
    call.setTrailer('authorization', `Bearer ${issued.token}`);
  }

  async authenticate(call: ServerCall, rpc: string): Promise<Principal> {
    const outcome = await this.gate.authenticate(
      { authorization: call.metadata.get('authorization'), tokenBin: call.metadata.getBinary('auth-token-bin'), clientCertificate: call.clientCertificate },
      this.context(call, rpc),
    );
    if (outcome.issued) this.announce(call, outcome.issued);
    call.markAuthenticated();
    const admitting = this.limits?.admitCall(outcome.principal);
    if (admitting) await admitting;
    return outcome.principal;
  }

  chargeUpload(principal: Principal, bytes: number, totalSoFar: number): void {
    this.limits?.chargeUpload(principal, bytes, totalSoFar);
  }

  async authorize(principal: Principal, action: DatasetAction, dataset: string, call: ServerCall): Promise<void> {
    const policy = await this.directory.policy();
    if (policy.allows(principal.roles, action, dataset)) return;
    this.audit.record({
      event: 'authz.denied', outcome: 'denied', principal: principal.id, kind: principal.kind, issuer: principal.issuer, method: principal.method, action, dataset,
      peer: call.peer, rpc: call.method.slice(call.method.lastIndexOf('/') + 1),
    });
    // The same answer whether or not the dataset exists: a denial must not reveal names.
    throw permissionDenied(`"${principal.id}" may not ${action} dataset "${dataset}"`);
  }

  recordDataAccess(e: DataAccess): void {
    const p = e.principal;
    this.audit.record({
      event: 'data.access', outcome: e.outcome, principal: p.id, kind: p.kind, issuer: p.issuer, method: p.method,
      peer: e.peer, rpc: e.rpc, dataset: e.dataset, rows: e.rows, bytes: e.bytes, ...(e.mode ? { action: e.mode } : {}),
      ...(e.grants ? { grants: e.grants, restricted: e.restricted ?? false } : {}),
    });
  }

  recordQuery(q: QueryAudit): void {
    const p = q.principal;
    this.audit.record({
      event: 'sql.query', outcome: q.outcome, principal: p.id, kind: p.kind, issuer: p.issuer, method: p.method, peer: q.peer, rpc: q.rpc,
      statement: q.statement, statementHash: q.statementHash, rows: q.rows, bytes: q.bytes, durationMs: q.durationMs,
      ...(q.reason ? { reason: q.reason } : {}),
      ...(q.policies?.length ? { policies: q.policies } : {}),
    });
  }

  async readScope(principal: Principal, dataset: string): Promise<ReadScope | undefined> {
    return (await this.directory.policy()).readScope(principal.roles, dataset);
  }

  async may(principal: Principal, action: DatasetAction, dataset: string): Promise<boolean> {
    return (await this.directory.policy()).allows(principal.roles, action, dataset);
  }

  async handshake(call: ServerCall, payload: Uint8Array | undefined): Promise<HandshakeOutcome> {
    const ctx = this.context(call, 'Handshake');
    // A client certificate that failed verification refuses password logins too (the gate says why).
    if (call.clientCertificate.kind === 'rejected') await this.authenticate(call, 'Handshake');
    const header = call.metadata.get('authorization');
    if (header && /^basic\s/i.test(header.trim())) {
      const { principal, issued } = await this.gate.loginBasic(header.trim().slice(6), ctx);
      this.announce(call, issued);
      call.markAuthenticated();
      return { principal };
    }
    const basic = payload && payload.length > 0 ? basicAuthIn(payload) : undefined;
    if (basic) {
      const { principal, issued } = await this.gate.login(basic.username, basic.password, ctx);
      this.announce(call, issued);
      call.markAuthenticated();
      return { principal, response: Buffer.from(issued.token, 'utf8') };
    }
    // No login in this Handshake: the caller must already hold a token, and gets its payload back.
    return { principal: await this.authenticate(call, 'Handshake'), response: payload };
  }

  async closeSession(principal: Principal, call: ServerCall): Promise<boolean> {
    if (!principal.sessionId) return false;
    return this.gate.sessions.revoke(principal.sessionId, principal.id, this.context(call, 'DoAction:CloseSession'));
  }

  async refreshSession(principal: Principal, call: ServerCall): Promise<RefreshedSession> {
    const issued = await this.gate.sessions.refresh(principal, this.context(call, 'DoAction:refresh'));
    this.announce(call, issued);
    return issued;
  }
}

/** The Flight BasicAuth message in a Handshake payload, if that is what it holds. */
function basicAuthIn(payload: Uint8Array): BasicAuth | undefined {
  try {
    const b = decodeBasicAuth(payload);
    return b.username ? b : undefined;
  } catch {
    return undefined;
  }
}
