/**
 * Who may read /metrics. The figures name RPCs, outcomes and volumes, not secrets, but operators
 * may not want them public: a bearer token (read from a file) can be required, and the route
 * can move to a listener of its own (typically on an internal interface).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from '../audit/metrics.js';

export interface MetricsAccess {
  /** The bearer token /metrics requires, if any. */
  readonly token?: string;
}

/** Whether an `authorization` header carries the required token (always true without one). */
export function metricsAuthorized(access: MetricsAccess, authorization: string | undefined): boolean {
  if (!access.token) return true;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const expected = Buffer.from(access.token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const METRICS_CHALLENGE = 'Bearer realm="flightgate-metrics"';

/** A plain HTTP listener that serves only GET /metrics (metrics.listen). */
export async function listenMetrics(host: string, port: number, access: MetricsAccess, render: () => Promise<string>): Promise<{ server: Server; uri: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    if (!metricsAuthorized(access, req.headers.authorization)) {
      res.writeHead(401, { 'www-authenticate': METRICS_CHALLENGE, 'content-type': 'text/plain' }).end('a bearer token is required (metrics.bearerTokenFile)\n');
      return;
    }
    render().then(
      (text) => res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return { server, uri: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` };
}
