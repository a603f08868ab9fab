/**
 * What checking a session bearer token costs flightgate, measured in-process (no network noise):
 * the AccessControl authenticate + authorize path a Flight call takes, with the embedded stores
 * and the audit log writing to a file. Prints one JSON line.
 */
import { NO_CLIENT_CERTIFICATE } from '../src/core/client-certificate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { buildSecurity } from '../src/security.js';
import { Metadata } from '../src/flight/transport/metadata.js';
import { ClientAdmin } from '../src/tokens/client-admin.js';
import { parseFormParams } from '../src/tokens/form-params.js';
import type { ServerCall } from '../src/flight/transport/server.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-bench-'));
const config = loadConfig({ env: {}, overrides: { dataDir: dir, demo: true, audit: { file: join(dir, 'audit.log') } } });
const security = await buildSecurity(config, { info: () => undefined, warn: () => undefined }, 'http://127.0.0.1:1');

function call(headers: Record<string, string>): ServerCall {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return {
    method: '/arrow.flight.protocol.FlightService/GetFlightInfo', metadata, peer: '127.0.0.1:40000',
    signal: new AbortController().signal, deadline: undefined, secure: false, clientCertificate: NO_CLIENT_CERTIFICATE,
    setHeader: () => undefined, setTrailer: () => undefined, flushHeaders: () => undefined, release: () => undefined, markAuthenticated: () => undefined,
  };
}

const basic = Buffer.from('user1:pass1').toString('base64');
const loginCall = call({ authorization: `Basic ${basic}` });
await security.access.handshake(loginCall, undefined);
let token = '';
const issued = await security.sessions.create((await security.registry.users.get('user1'))!, { rpc: 'bench', peer: 'bench' });
token = issued.token;
const bearer = call({ authorization: `Bearer ${token}` });

// A JWT from our own token service, for a client with the same role as user1.
const client = await new ClientAdmin(security.registry.clients, security.registry.refreshTokens).add('bench', ['demo-db1-reader'], []);
const jwt = (await security.tokenService.token({
  params: parseFormParams('grant_type=client_credentials'),
  authorization: `Basic ${Buffer.from(`${client.client.client_id}:${client.clientSecret}`).toString('base64')}`,
  peer: 'bench',
})).access_token;

/** Each call gets its own metadata, with the token as a fresh string, as off the wire. */
async function measure(kind: string, value: string, note: string): Promise<void> {
  const once = async (): Promise<void> => {
    const c = call({ authorization: `Bearer ${value.slice(0)}` });
    const principal = await security.access.authenticate(c, 'GetFlightInfo');
    await security.access.authorize(principal, 'read', 'db1', c);
  };
  for (let i = 0; i < 20_000; i++) await once();
  const n = 200_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(JSON.stringify({ bench: 'bearer_validation_in_process', bearer: kind, summary: true, us_per_call: Number(us.toFixed(2)), calls: n, note }));
}
void bearer;
await measure('session', token, 'authenticate (session lookup, user cache, audit line) + authorize (policy), memory session store');
await measure('jwt', jwt, 'authenticate (verified-token cache, revocation check, audit line) + authorize (policy), memory revocation list');
await security.close();
rmSync(dir, { recursive: true, force: true });
