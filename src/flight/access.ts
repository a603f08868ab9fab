/**
 * The seam through which every Flight RPC passes: who is calling, and may they do this?
 * The data plane only ever talks to this interface; authentication and authorization modules
 * plug in behind it (see secured-access.ts).
 */
import type { ReadScope } from '../authz/policy.js';
import type { DatasetAction } from '../core/actions.js';
import { unimplemented } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { ANONYMOUS } from '../core/principal.js';
import type { ServerCall } from './transport/call.js';

export type { DatasetAction };

export interface HandshakeOutcome {
  principal: Principal;
  /** The HandshakeResponse payload to answer the first request with, if any. */
  response?: Uint8Array;
}

export interface RefreshedSession {
  token: string;
  expiresIn: number;
}

/** A read or an upload that ran, ok or not: what the audit log records about data access. */
export interface DataAccess {
  /** DoGet, DoPut, or the RPC of a command that read the dataset (DoExchange). */
  rpc: string;
  principal: Principal;
  peer: string;
  dataset: string;
  rows: number;
  bytes: number;
  outcome: 'ok' | 'error';
  /** An upload's mode (create, append, replace). */
  mode?: string;
  /** A read's grants (ids), and whether their row or column policy restricted it. */
  grants?: readonly string[];
  restricted?: boolean;
}

/** A SQL statement that ran (or failed): what the audit log records about queries. */
export interface QueryAudit {
  principal: Principal;
  peer: string;
  rpc: string;
  /** The statement, cut to a length fit for a log line. */
  statement: string;
  /** SHA-256 of the whole statement (hex), to group and correlate. */
  statementHash: string;
  rows: number;
  bytes: number;
  durationMs: number;
  outcome: 'ok' | 'denied' | 'error';
  /** A short reason when it failed (the status name). */
  reason?: string;
  /** The row and column policies (grant ids) applied to the tables the statement read. */
  policies?: readonly string[];
}

export interface AccessControl {
  /** Establishes the caller of `call`, or throws UNAUTHENTICATED. */
  authenticate(call: ServerCall, rpc: string): Promise<Principal>;
  /** Throws PERMISSION_DENIED unless `principal` may do `action` on `dataset`. */
  authorize(principal: Principal, action: DatasetAction, dataset: string, call: ServerCall): Promise<void>;
  /** Whether `principal` may do `action` on `dataset`, without auditing a denial (to filter lists). */
  may(principal: Principal, action: DatasetAction, dataset: string): Promise<boolean>;
  /**
   * What `principal` may read of `dataset`: all of it, or the rows and columns of the restricted
   * grants; undefined when they may not read it. Absent: whoever may read reads all.
   */
  readScope?(principal: Principal, dataset: string): Promise<ReadScope | undefined>;
  /** Handshake: a login from the headers or from the first request's payload (undefined if none came). */
  handshake(call: ServerCall, payload: Uint8Array | undefined): Promise<HandshakeOutcome>;
  /** Ends the session the call was made in; false when there is none to close. */
  closeSession(principal: Principal, call: ServerCall): Promise<boolean>;
  /** A fresh session token in place of the one the call used. */
  refreshSession(principal: Principal, call: ServerCall): Promise<RefreshedSession>;
  /**
   * Counts `bytes` more received by a DoPut that has received `totalSoFar`; throws
   * RESOURCE_EXHAUSTED over an upload limit or quota. Absent: no limits.
   */
  chargeUpload?(principal: Principal, bytes: number, totalSoFar: number): void;
  /** Records a data access once it has ended (the audit log's `data.access`). Absent: not recorded. */
  recordDataAccess?(access: DataAccess): void;
  /** Records a SQL statement once it has ended (the audit log's `sql.query`). Absent: not recorded. */
  recordQuery?(query: QueryAudit): void;
}

/** Lets everyone do everything: for embedding the data plane without authentication (tests, benchmarks). */
export const allowAll: AccessControl = {
  async authenticate(call): Promise<Principal> {
    call.markAuthenticated();
    return ANONYMOUS;
  },
  async authorize(): Promise<void> {},
  async may(): Promise<boolean> {
    return true;
  },
  async handshake(call, payload): Promise<HandshakeOutcome> {
    call.markAuthenticated();
    return { principal: ANONYMOUS, response: payload };
  },
  async closeSession(): Promise<boolean> {
    return false;
  },
  async refreshSession(): Promise<RefreshedSession> {
    throw unimplemented('this server has no sessions (authentication is not configured)');
  },
};
