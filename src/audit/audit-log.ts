/**
 * The audit log: one JSON line per authentication outcome, authorization denial, session change
 * and data access. Events carry names, never secrets; as a second guard, anything shaped like one
 * of our tokens or a Basic/Bearer credential is masked before the line is written.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export type AuditEventName =
  | 'auth.success'
  | 'auth.failure'
  | 'auth.lockout'
  | 'authz.denied'
  | 'session.created'
  | 'session.rotated'
  | 'session.revoked'
  | 'data.access';

export interface AuditEvent {
  event: AuditEventName;
  outcome: 'ok' | 'denied' | 'error';
  principal?: string;
  /** How the principal authenticated: basic, session… */
  method?: string;
  peer?: string;
  rpc?: string;
  dataset?: string;
  action?: string;
  rows?: number;
  bytes?: number;
  /** A short, safe reason for a failure. */
  reason?: string;
  /** The first characters of a session's id (a hash), to correlate events. */
  session?: string;
}

export interface AuditSink {
  record(event: AuditEvent): void;
}

export const discardAudit: AuditSink = { record: () => undefined };

const TOKENISH = /\b(fg[a-z])_[A-Za-z0-9_-]{8,}/g;
const CREDENTIALISH = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/gi;

/** Masks anything that looks like a credential; applied to every line as a last line of defence. */
export function redact(text: string): string {
  return text.replace(TOKENISH, '$1_…').replace(CREDENTIALISH, '$1 …');
}

export class AuditLog implements AuditSink {
  private readonly out: NodeJS.WritableStream;
  private readonly file: WriteStream | undefined;
  /** Lines of this turn of the event loop, written together: one write per turn, not one per call. */
  private pending: string[] = [];
  private flushScheduled = false;

  /** `target` is a file path (appended to) or `-` for stdout. */
  constructor(target: string) {
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
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.out.write(text);
  }

  async close(): Promise<void> {
    this.flush();
    const file = this.file;
    if (file) await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}
