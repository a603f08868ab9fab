/**
 * What flightgate exposes on /metrics. Calls are counted by the transport as they end; the
 * authentication, authorization, data and token figures are read off the audit events, so each
 * decision is recorded once and both views always agree.
 */
import { Counter, exposition, Histogram, Registry, scrapedCounter, scrapedGauge } from './metrics.js';
import { flightgateVersion } from '../core/version.js';
import type { AuditEvent, AuditSink } from './audit-log.js';
import { DATASET_ACTIONS } from '../core/actions.js';
import { AUTH_METHODS, GRANT_TYPES } from '../core/vocabulary.js';

/** Label values come from the shared vocabularies; anything else is counted as `other`. */
const METHODS: ReadonlySet<string> = new Set(AUTH_METHODS);
const GRANTS: ReadonlySet<string> = new Set(GRANT_TYPES);
const ACTIONS: ReadonlySet<string> = new Set(DATASET_ACTIONS);
const bounded = (value: string | undefined, allowed: ReadonlySet<string>): string => (value && allowed.has(value) ? value : 'other');

/** Seconds; from sub-millisecond metadata calls to minutes-long streams. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export interface MetricSources {
  activeCalls(): number;
  activeSessions(): Promise<number>;
  connections?(): number;
  pendingBytes?(): number;
}

const version = flightgateVersion;

export class FlightgateMetrics {
  readonly registry = new Registry();
  private readonly calls = this.counter('flightgate_rpc_calls_total', 'Flight calls ended, by RPC and gRPC status', ['rpc', 'code']);
  private readonly latency = new Histogram({
    name: 'flightgate_rpc_duration_seconds',
    help: 'Flight call duration, from headers to status',
    labelNames: ['rpc'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly auth = this.counter('flightgate_auth_total', 'Authentication decisions, by method and outcome (ok, denied, error)', ['method', 'outcome']);
  private readonly denied = this.counter('flightgate_authz_denied_total', 'Calls refused by the authorization policy, by action', ['action']);
  private readonly rows = this.counter('flightgate_rows_streamed_total', 'Rows sent (DoGet, DoExchange) or received (DoPut)', ['rpc']);
  private readonly bytes = this.counter('flightgate_bytes_streamed_total', 'Arrow IPC bytes sent or received', ['rpc']);
  private readonly tokens = this.counter('flightgate_tokens_issued_total', 'Access tokens issued by the token service, by grant', ['grant']);
  private readonly reuse = this.counter('flightgate_refresh_token_reuse_total', 'Refresh tokens presented again after rotation (their family was revoked)', []);
  private readonly sessions = this.counter('flightgate_sessions_total', 'Session events: created, rotated, revoked', ['event']);

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  constructor(sources: MetricSources) {
    const r = this.registry;
    scrapedGauge(r, { name: 'flightgate_active_calls', help: 'Flight calls in progress', read: () => sources.activeCalls() });
    scrapedGauge(r, { name: 'flightgate_active_sessions', help: 'Live session tokens (all replicas when sessions are in Redis)', read: () => sources.activeSessions() });
    scrapedGauge(r, { name: 'flightgate_connections', help: 'Open client connections (Flight)', read: () => sources.connections?.() ?? 0 });
    scrapedGauge(r, {
      name: 'flightgate_pending_bytes',
      help: 'Bytes held for messages still arriving, and for what calls send before they are authenticated (transport.maxPendingBytes)',
      read: () => sources.pendingBytes?.() ?? 0,
    });
    scrapedGauge(r, { name: 'process_resident_memory_bytes', help: 'Resident set size', read: () => process.memoryUsage.rss() });
    scrapedGauge(r, { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use', read: () => process.memoryUsage().heapUsed });
    scrapedCounter(r, {
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time',
      read: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      },
    });
    const started = Date.now() / 1000 - process.uptime();
    scrapedGauge(r, { name: 'process_start_time_seconds', help: 'Start time since the epoch', read: () => started });
    scrapedGauge(r, { name: 'flightgate_build_info', help: 'The running version', labels: { version: version() }, read: () => 1 });
  }

  /** For the transport: one call ended. `rpc` must be a registered method's name. */
  callEnded(rpc: string, code: string, seconds: number): void {
    this.calls.inc({ rpc, code });
    this.latency.observe({ rpc }, seconds);
  }

  /** Wraps the audit sink: every event is recorded, then counted. */
  observing(audit: AuditSink): AuditSink {
    return {
      record: (event: AuditEvent) => {
        audit.record(event);
        this.count(event);
      },
    };
  }

  private count(e: AuditEvent): void {
    switch (e.event) {
      case 'auth.success':
      case 'auth.failure':
        this.auth.inc({ method: bounded(e.method, METHODS), outcome: e.outcome });
        break;
      case 'authz.denied':
        this.denied.inc({ action: bounded(e.action, ACTIONS) });
        break;
      case 'data.access':
        if (e.rows) this.rows.inc({ rpc: e.rpc ?? 'other' }, e.rows);
        if (e.bytes) this.bytes.inc({ rpc: e.rpc ?? 'other' }, e.bytes);
        break;
      case 'token.issued':
      case 'token.refreshed':
        this.tokens.inc({ grant: bounded(e.grant, GRANTS) });
        break;
      case 'token.reuse_detected':
        this.reuse.inc();
        break;
      case 'session.created':
      case 'session.rotated':
      case 'session.revoked':
        this.sessions.inc({ event: e.event.slice('session.'.length) });
        break;
      default:
        break;
    }
  }

  render(): Promise<string> {
    return exposition(this.registry);
  }
}
