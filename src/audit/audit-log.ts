/**
 * The audit log: one JSON line per authentication outcome, authorization denial, session change
 * and data access. Events carry names, never secrets; as a second guard, anything shaped like one
 * of our tokens or a Basic/Bearer credential is masked before the line is written.
 */
import { createWriteStream, writeSync, type WriteStream } from 'node:fs';
import type { DatasetAction } from '../core/actions.js';
import type { GrantType } from '../core/vocabulary.js';

/** What every audit line may carry, whatever its event. */
interface AuditFields {
  outcome: 'ok' | 'denied' | 'error';
  principal?: string;
  /** What kind of principal (user, client, apikey, certificate, external): ids are unique only per kind (and issuer). */
  kind?: string;
  /** How the principal authenticated: basic, session… */
  method?: string;
  peer?: string;
  rpc?: string;
  /** A short, safe reason for a failure. */
  reason?: string;
  /** The first characters of a session's id (a hash), to correlate events. */
  session?: string;
  /** The OAuth client and token id (jti) for token-service events. */
  client?: string;
  jti?: string;
  issuer?: string;
}

/**
 * One audit event. Each kind says what it must carry, with the shared vocabularies as types: a
 * grant named differently from the token service's (which once left exchanges counted as
 * `other` in the metrics) does not compile.
 */
export type AuditEvent = AuditFields &
  (
    | { event: 'auth.success' | 'auth.failure' | 'auth.lockout' }
    | { event: 'authz.denied'; action: DatasetAction; dataset: string }
    | { event: 'session.created' | 'session.rotated' | 'session.revoked' }
    | { event: 'data.access'; dataset: string; rows: number; bytes: number; action?: string; grants?: readonly string[]; restricted?: boolean }
    | { event: 'sql.query'; statement: string; statementHash: string; rows: number; bytes: number; durationMs: number; policies?: readonly string[] }
    | { event: 'token.issued'; grant: GrantType }
    | { event: 'token.refreshed'; grant: 'refresh_token' }
    | { event: 'token.denied'; grant?: GrantType }
    | { event: 'token.revoked' | 'token.reuse_detected' | 'token.refresh_grace' | 'client.changed' | 'apikey.changed' | 'keys.rotated' }
  );

export type AuditEventName = AuditEvent['event'];

export interface AuditSink {
  record(event: AuditEvent): void;
}

export const discardAudit: AuditSink = { record: () => undefined };

const TOKENISH = /\b(fg[a-z])_[A-Za-z0-9_-]{8,}/g;
const CREDENTIALISH = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/gi;
const JWTISH = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g;

/** Masks anything that looks like a credential; applied to every line as a last line of defence. */
export function redact(text: string): string {
  return text.replace(TOKENISH, '$1_…').replace(CREDENTIALISH, '$1 …').replace(JWTISH, 'eyJ…');
}

const openLogs = new Set<AuditLog>();
let exitHooked = false;

function watchExit(log: AuditLog): void {
  openLogs.add(log);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const l of openLogs) l.exitFlush();
  });
}

const FLUSH_MS = 50;
const FLUSH_LINES = 512;

export class AuditLog implements AuditSink {
  private readonly out: NodeJS.WritableStream;
  private readonly file: WriteStream | undefined;
  /**
   * Lines wait here up to FLUSH_MS (or FLUSH_LINES lines) and go out in one write: a write per
   * event would cost a system call on every Flight call. Every authenticated call writes a line,
   * so its cost is part of authentication's: pino's logger costs twice this writer per line and
   * its asynchronous destination more (bench/library-choices.mts), so this one stays.
   */
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** `target` is a file path (appended to) or `-` for stdout. */
  constructor(target: string) {
    watchExit(this);
    if (target === '-') {
      this.out = process.stdout;
    } else {
      this.file = createWriteStream(target, { flags: 'a', mode: 0o600 });
      this.file.on('error', (err) => process.stderr.write(`flightgate: audit log ${target}: ${err.message}\n`));
      this.out = this.file;
    }
  }

  record(event: AuditEvent): void {
    this.pending.push(redact(JSON.stringify({ time: new Date().toISOString(), ...event })));
    if (this.pending.length >= FLUSH_LINES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes what is pending now. Also runs at exit, so a stopping server loses no event. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.out.write(text);
  }

  /** At exit only synchronous writes still happen; stdout and files accept them. */
  exitFlush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    try {
      const fd = this.file ? (this.file as unknown as { fd: number | null }).fd : 1;
      if (fd !== null) writeSync(fd, text);
    } catch {
      // nothing more can be done while exiting
    }
  }

  async close(): Promise<void> {
    this.flush();
    openLogs.delete(this);
    const file = this.file;
    if (file) await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}
