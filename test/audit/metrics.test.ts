/** Prometheus metrics: the text format, and what a server counts from real calls. */
import assert from 'node:assert/strict';
import type { GrantType } from '../../src/core/vocabulary.js';
import { test } from 'node:test';
import { FlightgateMetrics } from '../../src/audit/flightgate-metrics.js';
import { exposition, Registry, scrapedCounter, scrapedGauge } from '../../src/audit/metrics.js';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startTestServer } from '../helpers/server.js';

test('values read at scrape: a failing source is NaN, not a failed scrape; fixed labels; a counter kept elsewhere only grows', async () => {
  const r = new Registry();
  let cpu = 1.5;
  scrapedGauge(r, { name: 'up', help: 'answers', read: () => 1 });
  scrapedGauge(r, { name: 'broken', help: 'fails', read: async () => Promise.reject(new Error('down')) });
  scrapedGauge(r, { name: 'info', help: 'build', labels: { version: '1.2"x' }, read: () => 1 });
  scrapedCounter(r, { name: 'cpu_seconds_total', help: 'cpu', read: () => cpu });
  const lines = (await exposition(r)).split('\n');
  for (const expected of ['# TYPE up gauge', 'up 1', 'broken NaN', 'info{version="1.2\\"x"} 1', '# TYPE cpu_seconds_total counter', 'cpu_seconds_total 1.5']) {
    assert.ok(lines.includes(expected), `${expected} in\n${lines.join('\n')}`);
  }
  cpu = 2.25;
  assert.ok((await exposition(r)).split('\n').includes('cpu_seconds_total 2.25'));
  assert.throws(() => scrapedGauge(r, { name: 'up', help: 'again', read: () => 0 }), /already been registered/);
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
