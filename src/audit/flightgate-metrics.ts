/**
 * What flightgate exposes on /metrics. Calls are counted by the transport as they end; the
 * authentication, authorization, data and token figures are read off the audit events, so each
 * decision is recorded once and both views always agree.
 */
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.js';
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

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export class FlightgateMetrics {
  readonly registry = new MetricsRegistry();
  private readonly calls = this.registry.register(new Counter('flightgate_rpc_calls_total', 'Flight calls ended, by RPC and gRPC status', ['rpc', 'code']));
  private readonly latency = this.registry.register(new Histogram('flightgate_rpc_duration_seconds', 'Flight call duration, from headers to status', ['rpc'], LATENCY_BUCKETS));
  private readonly auth = this.registry.register(new Counter('flightgate_auth_total', 'Authentication decisions, by method and outcome (ok, denied, error)', ['method', 'outcome']));
  private readonly denied = this.registry.register(new Counter('flightgate_authz_denied_total', 'Calls refused by the authorization policy, by action', ['action']));
  private readonly rows = this.registry.register(new Counter('flightgate_rows_streamed_total', 'Rows sent (DoGet, DoExchange) or received (DoPut)', ['rpc']));
  private readonly bytes = this.registry.register(new Counter('flightgate_bytes_streamed_total', 'Arrow IPC bytes sent or received', ['rpc']));
  private readonly tokens = this.registry.register(new Counter('flightgate_tokens_issued_total', 'Access tokens issued by the token service, by grant', ['grant']));
  private readonly reuse = this.registry.register(new Counter('flightgate_refresh_token_reuse_total', 'Refresh tokens presented again after rotation (their family was revoked)', []));
  private readonly sessions = this.registry.register(new Counter('flightgate_sessions_total', 'Session events: created, rotated, revoked', ['event']));

  constructor(sources: MetricSources) {
    const r = this.registry;
    r.register(new Gauge('flightgate_active_calls', 'Flight calls in progress', () => sources.activeCalls()));
    r.register(new Gauge('flightgate_active_sessions', 'Live session tokens (all replicas when sessions are in Redis)', () => sources.activeSessions()));
    r.register(new Gauge('flightgate_connections', 'Open client connections (Flight)', () => sources.connections?.() ?? 0));
    r.register(new Gauge('flightgate_pending_bytes', 'Bytes held for messages still arriving, and for what calls send before they are authenticated (transport.maxPendingBytes)', () => sources.pendingBytes?.() ?? 0));
    r.register(new Gauge('process_resident_memory_bytes', 'Resident set size', () => process.memoryUsage.rss()));
    r.register(new Gauge('nodejs_heap_used_bytes', 'V8 heap in use', () => process.memoryUsage().heapUsed));
    r.register(new Gauge('process_cpu_seconds_total', 'User and system CPU time', () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    }, 'counter'));
    const started = Date.now() / 1000 - process.uptime();
    r.register(new Gauge('process_start_time_seconds', 'Start time since the epoch', () => started));
    const v = version();
    r.register(new Gauge(`flightgate_build_info{version="${v.replace(/[^\w.+-]/g, '_')}"}`, 'The running version', () => 1));
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
    return this.registry.render();
  }
}
