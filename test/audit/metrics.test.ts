/** Prometheus metrics: the text format, and what a server counts from real calls. */
import assert from 'node:assert/strict';
import type { GrantType } from '../../src/core/vocabulary.js';
import { test } from 'node:test';
import { FlightgateMetrics } from '../../src/audit/flightgate-metrics.js';
import { Counter, Gauge, Histogram, MetricsRegistry } from '../../src/audit/metrics.js';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startTestServer } from '../helpers/server.js';

test('text format: HELP and TYPE, escaped label values, cumulative buckets, NaN for a gauge that cannot be read', async () => {
  const r = new MetricsRegistry();
  const c = r.register(new Counter('x_total', 'things\nhappened', ['kind']));
  c.inc({ kind: 'a"b\\c\nd' });
  c.inc({ kind: 'a"b\\c\nd' }, 2);
  const h = r.register(new Histogram('lat_seconds', 'latency', ['rpc'], [0.1, 1]));
  for (const v of [0.05, 0.5, 0.7, 5]) h.observe({ rpc: 'DoGet' }, v);
  r.register(new Gauge('up', 'answers', () => 1));
  r.register(new Gauge('broken', 'fails', async () => Promise.reject(new Error('down'))));
  r.register(new Gauge('info{version="1.2"}', 'build', () => 1));
  assert.throws(() => r.register(new Gauge('up', 'again', () => 0)), /registered twice/);
  const text = await r.render();
  assert.equal(
    text,
    [
      '# HELP x_total things\\nhappened',
      '# TYPE x_total counter',
      'x_total{kind="a\\"b\\\\c\\nd"} 3',
      '# HELP lat_seconds latency',
      '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{rpc="DoGet",le="0.1"} 1',
      'lat_seconds_bucket{rpc="DoGet",le="1"} 3',
      'lat_seconds_bucket{rpc="DoGet",le="+Inf"} 4',
      'lat_seconds_sum{rpc="DoGet"} 6.25',
      'lat_seconds_count{rpc="DoGet"} 4',
      '# HELP up answers',
      '# TYPE up gauge',
      'up 1',
      '# HELP broken fails',
      '# TYPE broken gauge',
      'broken NaN',
      '# HELP info build',
      '# TYPE info gauge',
      'info{version="1.2"} 1',
      '',
    ].join('\n'),
  );
});

test('every grant the token service knows is a label of its own; the token-exchange URN is not "other"', async () => {
  const { SUPPORTED_GRANTS } = await import('../../src/tokens/token-service.js');
  const m = new FlightgateMetrics({ activeCalls: () => 0, activeSessions: async () => 0 });
  const sink = m.observing({ record: () => undefined });
  for (const grant of SUPPORTED_GRANTS) sink.record({ event: 'token.issued', outcome: 'ok', grant });
  const text = await m.render();
  for (const grant of SUPPORTED_GRANTS) assert.match(text, new RegExp(`flightgate_tokens_issued_total\\{grant="${grant.replace(/[.:]/g, '\\$&')}"\\} 1`), grant);
  assert.doesNotMatch(text, /grant="other"/);
});

test('labels come from fixed sets: a made-up scheme or grant is counted as "other"', async () => {
  const m = new FlightgateMetrics({ activeCalls: () => 0, activeSessions: async () => 0 });
  const sink = m.observing({ record: () => undefined });
  sink.record({ event: 'auth.failure', outcome: 'denied', method: 'x-attacker-chosen-scheme' });
  // The types refuse a made-up grant; the metrics still bound what arrives at run time.
  sink.record({ event: 'token.issued', outcome: 'ok', grant: 'made_up' as unknown as GrantType });
  sink.record({ event: 'authz.denied', outcome: 'denied', action: 'read', dataset: 'x' });
  const text = await m.render();
  assert.match(text, /flightgate_auth_total\{method="other",outcome="denied"\} 1/);
  assert.match(text, /flightgate_tokens_issued_total\{grant="other"\} 1/);
  assert.doesNotMatch(text, /attacker|made_up/);
});

test('a server counts calls by RPC and status, authentication by method, rows and bytes, sessions and tokens', async () => {
  const server = await startTestServer({ demo: true, demoNumbersRows: 1000 }, { secure: true });
  try {
    const client = new FlightClient(server.uri);
    try {
      await client.login('user1', 'pass1');
      assert.equal((await client.readTable('db1')).numRows, 3);
      await assert.rejects(client.readTable('db2'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'PERMISSION_DENIED');
      const stranger = new FlightClient(server.uri, { headers: { authorization: 'Bearer fgs_not-a-session-token-at-all-000000000000' } });
      await assert.rejects(stranger.getFlightInfo('db1'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED');
      await stranger.close();
      const res = await fetch(`${server.httpUri}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      const value = (series: string): number => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        assert.ok(line, `no ${series} in\n${text}`);
        return Number(line.slice(series.length + 1));
      };
      assert.equal(value('flightgate_rpc_calls_total{rpc="Handshake",code="OK"}'), 1);
      assert.equal(value('flightgate_rpc_calls_total{rpc="DoGet",code="OK"}'), 1);
      assert.equal(value('flightgate_rpc_calls_total{rpc="GetFlightInfo",code="PERMISSION_DENIED"}'), 1);
      assert.equal(value('flightgate_rpc_calls_total{rpc="GetFlightInfo",code="UNAUTHENTICATED"}'), 1);
      assert.equal(value('flightgate_rpc_duration_seconds_count{rpc="DoGet"}'), 1);
      assert.equal(value('flightgate_auth_total{method="basic",outcome="ok"}'), 1);
      assert.equal(value('flightgate_auth_total{method="bearer",outcome="denied"}'), 1);
      assert.ok(value('flightgate_auth_total{method="session",outcome="ok"}') >= 3);
      assert.equal(value('flightgate_authz_denied_total{action="read"}'), 1);
      assert.equal(value('flightgate_rows_streamed_total{rpc="DoGet"}'), 3);
      assert.ok(value('flightgate_bytes_streamed_total{rpc="DoGet"}') > 100);
      assert.equal(value('flightgate_sessions_total{event="created"}'), 1);
      assert.equal(value('flightgate_active_sessions'), 1);
      assert.equal(value('flightgate_active_calls'), 0);
      assert.ok(value('process_resident_memory_bytes') > 10_000_000);
      assert.doesNotMatch(text, /fgs_|user1|pass1/, 'no token, user or secret in metrics');
      const ready = await fetch(`${server.httpUri}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', checks: { registry: 'ok', sessions: 'ok' } });
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
});
