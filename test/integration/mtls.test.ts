/**
 * TLS and mutual TLS end to end: client certificates mapped to principals, alone and with
 * Bearer; certificates of another CA and unmapped ones refused; the required mode refusing
 * connections without a certificate; the HTTP service over HTTPS; pyarrow and the TypeScript client.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startServer } from '../../src/server.js';
import { issueCertificate, issueCrl, privateKeyPem, type IssuedCertificate } from '../../src/tls/certificate-builder.js';
import { runCli } from '../helpers/cli-server.js';
import { runPython } from '../helpers/python.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { readFileSync } from 'node:fs';
import { rejectsWith } from '../helpers/assertions.js';

const dir = tempDir('fg-mtls-');
const files = {
  caCert: join(dir, 'ca.pem'),
  serverCert: join(dir, 'server.pem'),
  serverKey: join(dir, 'server.key'),
};
/** The CA the server trusts for client certificates (and that signed its own). */
let devCa: IssuedCertificate;
let ca: string;
/** A certificate from another CA with the mapped name: it must never count. */
let forged: { cert: string; key: string };

const pair = (c: IssuedCertificate): { cert: string; key: string } => ({ cert: c.certificatePem, key: privateKeyPem(c.privateKey) });

/** A client certificate our CA signed. */
const signedByDevCa = async (commonName: string, altNames?: string[]): Promise<{ cert: string; key: string }> =>
  pair(await issueCertificate({ commonName, kind: 'client', validDays: 2, ...(altNames ? { altNames } : {}) }, devCa));

const devClient = (): Promise<{ cert: string; key: string }> => signedByDevCa('etl-job');

before(async () => {
  devCa = await issueCertificate({ commonName: 'test CA', kind: 'ca', validDays: 2 });
  ca = devCa.certificatePem;
  const server = await issueCertificate({ commonName: 'localhost', kind: 'server', altNames: ['localhost', '127.0.0.1'], validDays: 2 }, devCa);
  writeFileSync(files.caCert, ca);
  writeFileSync(files.serverCert, server.certificatePem);
  writeFileSync(files.serverKey, privateKeyPem(server.privateKey));
  const strangerCa = await issueCertificate({ commonName: 'stranger CA', kind: 'ca', validDays: 2 });
  forged = pair(await issueCertificate({ commonName: 'etl-job', kind: 'client', validDays: 2 }, strangerCa));
});

function tlsSection(mode: 'optional' | 'required') {
  return {
    certFile: files.serverCert,
    keyFile: files.serverKey,
    clientCaFile: files.caCert,
    clientCertificates: mode,
    clientPrincipals: [
      { subject: 'etl-job', principal: 'svc-etl', roles: ['demo-db1-reader'] },
      { subject: 'spiffe://example.org/reporting', roles: ['demo-db2-reader'] },
    ],
  };
}

function clientFor(server: TestServer, identity?: { cert: string; key: string }, token?: string): FlightClient {
  return new FlightClient(server.uri.replace('127.0.0.1', 'localhost'), {
    tls: { ca, ...(identity ?? {}) },
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}



/** The audit log is written in batches (every 50 ms): wait for the line rather than race it. */
async function auditShows(server: TestServer, pattern: RegExp): Promise<void> {
  let text = '';
  for (let i = 0; i < 40; i++) {
    text = readFileSync(join(server.dataDir, 'audit.log'), 'utf8');
    if (pattern.test(text)) return;
    await sleep(50);
  }
  assert.match(text, pattern);
}

async function using<T>(client: FlightClient, f: (c: FlightClient) => Promise<T>): Promise<T> {
  try {
    return await f(client);
  } finally {
    await client.close();
  }
}

function httpsGet(url: string, caPem: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca: caPem }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

function httpsPost(url: string, caPem: string, auth: string, form: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: caPem, headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(form);
  });
}

describe('mutual TLS, optional client certificates', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ demo: true, demoNumbersRows: 1000, tls: tlsSection('optional') }, { secure: true });
  });
  after(async () => server?.stop());

  test('a mapped client certificate alone authenticates, with the roles of its mapping', async () => {
    assert.match(server.uri, /^grpc\+tls:\/\//);
    await using(clientFor(server, await devClient()), async (c) => {
      const table = await c.readTable('db1');
      assert.equal(table.numRows, 3);
      await rejectsWith(c.readTable('db2'), 'PERMISSION_DENIED', /"svc-etl" may not read dataset "db2"/);
      const listed: string[] = [];
      for await (const info of c.listFlights()) listed.push(info.descriptor?.path?.join('/') ?? '');
      assert.deepEqual(listed, ['db1']);
    });
    await auditShows(server, /"event":"auth.success","outcome":"ok","principal":"svc-etl","kind":"certificate","method":"mtls"/);
  });

  test('with a Bearer token too, the token decides who calls', async () => {
    const token = await using(clientFor(server), (c) => c.login('user2', 'pass2'));
    await using(clientFor(server, await devClient(), token), async (c) => {
      assert.equal((await c.readTable('db2')).numRows, 3);
      await rejectsWith(c.readTable('db1'), 'PERMISSION_DENIED', /"user2"/);
    });
  });

  test('no certificate and no credentials: UNAUTHENTICATED; a password login over TLS still works', async () => {
    await using(clientFor(server), async (c) => {
      await rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /no credentials/);
      await c.login('user1', 'pass1');
      assert.equal((await c.readTable('db1')).numRows, 3);
    });
  });

  test('a certificate from another CA is refused on every call, even with a valid token, and for logins', async () => {
    const token = await using(clientFor(server), (c) => c.login('user1', 'pass1'));
    await using(clientFor(server, forged), async (c) => {
      await rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /client certificate was not accepted/);
      await rejectsWith(c.login('user1', 'pass1'), 'UNAUTHENTICATED', /client certificate was not accepted/);
    });
    await using(clientFor(server, forged, token), (c) => rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /not accepted/));
    await auditShows(server, /"event":"auth.failure","outcome":"denied","method":"mtls","peer":"[^"]+","rpc":"GetFlightInfo","reason":"client certificate rejected: [A-Z_]+"/);
  });

  test('a verified certificate nobody mapped gets nothing by itself', async () => {
    const signed = await signedByDevCa('someone-else');
    await using(clientFor(server, signed), (c) => rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /"someone-else" is not mapped to a principal/));
  });

  test('a SPIFFE-style URI alternative name maps too', async () => {
    const spiffe = await signedByDevCa('reporting-pod-17', ['spiffe://example.org/reporting']);
    await using(clientFor(server, spiffe), async (c) => {
      assert.equal((await c.readTable('db2')).numRows, 3);
      await rejectsWith(c.readTable('db1'), 'PERMISSION_DENIED', /"spiffe:\/\/example.org\/reporting"/);
    });
  });

  test('the HTTP service answers over HTTPS and names an https issuer; its tokens work on Flight over TLS', async () => {
    assert.match(server.httpUri ?? '', /^https:\/\//);
    const meta = await httpsGet(`${server.httpUri!.replace('127.0.0.1', 'localhost')}/.well-known/oauth-authorization-server`, ca);
    assert.equal(meta.status, 200);
    const issuer = (JSON.parse(meta.body) as { issuer: string; token_endpoint: string }).issuer;
    assert.match(issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    const created = await runCli(['clients', 'add', 'tls-job', '--role', 'demo-db1-reader', '--data-dir', server.dataDir, '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { client_id, client_secret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    const basic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
    const issued = await httpsPost(`${server.httpUri}/oauth2/token`, ca, basic, 'grant_type=client_credentials');
    assert.equal(issued.status, 200, issued.body);
    const token = (JSON.parse(issued.body) as { access_token: string }).access_token;
    await using(clientFor(server, undefined, token), async (c) => assert.equal((await c.readTable('db1')).numRows, 3));
  });
});


describe('mutual TLS, required client certificates', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ demo: true, demoNumbersRows: 1000, tls: tlsSection('required') }, { secure: true });
  });
  after(async () => server?.stop());

  test('a client without a valid certificate gets no call and no login, with a message saying why; with one it calls, alone or with a token', async () => {
    await using(clientFor(server), (c) => rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /requires a client certificate/));
    await using(clientFor(server), (c) => rejectsWith(c.login('user1', 'pass1'), 'UNAUTHENTICATED', /requires a client certificate/));
    await using(clientFor(server, forged), (c) => rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /client certificate was not accepted/));
    const token = await using(clientFor(server, await devClient()), async (c) => {
      assert.equal((await c.readTable('db1')).numRows, 3);
      return c.login('user2', 'pass2');
    });
    await using(clientFor(server, await devClient(), token), async (c) => assert.equal((await c.readTable('db2')).numRows, 3));
  });

  test('pyarrow: grpc+tls with the root certificate and a client certificate; none, and the connection is refused', async () => {
    const script = `
import sys, pyarrow.flight as flight
uri, ca, cert, key = sys.argv[1:5]
root = open(ca, "rb").read()
client = flight.FlightClient(uri, tls_root_certs=root, cert_chain=open(cert, "rb").read(), private_key=open(key, "rb").read())
print("listed", [f.descriptor.path[0].decode() for f in client.list_flights()])
print("rows", client.do_get(flight.Ticket(b"db1")).read_all().num_rows)
try:
    client.do_get(flight.Ticket(b"db2")).read_all()
except flight.FlightUnauthorizedError as e:
    print("db2 denied")
token = client.authenticate_basic_token(b"user2", b"pass2")
print("bearer rows", client.do_get(flight.Ticket(b"db2"), flight.FlightCallOptions(headers=[token])).read_all().num_rows)
try:
    flight.FlightClient(uri, tls_root_certs=root).get_flight_info(flight.FlightDescriptor.for_path("db1"), flight.FlightCallOptions(timeout=5))
    print("no certificate: connected")
except flight.FlightUnauthenticatedError as e:
    print("no certificate: unauthenticated", "requires a client certificate" in str(e))
try:
    flight.FlightClient(uri, tls_root_certs=root).authenticate_basic_token(b"user2", b"pass2")
    print("no certificate: logged in")
except flight.FlightUnauthenticatedError as e:
    print("no certificate login: unauthenticated", "requires a client certificate" in str(e))
`;
    const client = await devClient();
    writeFileSync(join(dir, 'py-client.pem'), client.cert);
    writeFileSync(join(dir, 'py-client.key'), client.key);
    const r = await runPython(['-c', script, server.uri.replace('127.0.0.1', 'localhost'), files.caCert, join(dir, 'py-client.pem'), join(dir, 'py-client.key')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ["listed ['db1']", 'rows 3', 'db2 denied', 'bearer rows 3', 'no certificate: unauthenticated True', 'no certificate login: unauthenticated True']);
  });
});

describe('revoking client certificates with a CRL, re-read without a restart', () => {
  let server: TestServer;
  const crlFile = join(dir, 'clients.crl');
  let etl: IssuedCertificate;
  let reporting: IssuedCertificate;
  before(async () => {
    etl = await issueCertificate({ commonName: 'etl-job', kind: 'client', validDays: 2 }, devCa);
    reporting = await issueCertificate({ commonName: 'pod', kind: 'client', altNames: ['spiffe://example.org/reporting'], validDays: 2 }, devCa);
    writeFileSync(crlFile, await issueCrl(devCa, [], 7));
    server = await startTestServer({ demo: true, demoNumbersRows: 1000, tls: { ...tlsSection('optional'), clientCrlFile: crlFile } }, { secure: true });
  });
  after(async () => server?.stop());

  test('a certificate the new CRL lists is refused on its next call, on the same client too; others go on', async () => {
    const kept = clientFor(server, pair(etl));
    try {
      assert.equal((await kept.readTable('db1')).numRows, 3);
      writeFileSync(crlFile, await issueCrl(devCa, [etl], 7));
      server.reloadTls();
      // The open connection was asked to close: the next call reconnects and is verified again.
      await rejectsWith(kept.getFlightInfo('db1'), 'UNAUTHENTICATED', /client certificate was not accepted: CERT_REVOKED/);
      await using(clientFor(server, pair(etl)), (c) => rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /CERT_REVOKED/));
      await using(clientFor(server, pair(reporting)), async (c) => assert.equal((await c.readTable('db2')).numRows, 3));
    } finally {
      await kept.close();
    }
  });

  test('a CRL file that cannot be used is refused at reload, and the current one stays in force', async () => {
    writeFileSync(crlFile, 'not a CRL');
    assert.throws(() => server.reloadTls(), (e: unknown) => e instanceof ConfigError && /tls\.clientCrlFile .* holds no PEM CRL/.test(e.message));
    await using(clientFor(server, pair(etl)), (c) => rejectsWith(c.getFlightInfo('db1'), 'UNAUTHENTICATED', /CERT_REVOKED/));
    await using(clientFor(server, pair(reporting)), async (c) => assert.equal((await c.readTable('db2')).numRows, 3));
    assert.throws(() => loadConfig({ env: {}, overrides: { tls: { certFile: 'c', keyFile: 'k', clientCrlFile: crlFile } } }), /tls\.clientCrlFile: needs tls\.clientCaFile/);
  });
});

describe('TLS configuration is checked at start', () => {
  test('client principals or required certificates without a client CA name the key', () => {
    const tls = { certFile: files.serverCert, keyFile: files.serverKey };
    assert.throws(() => loadConfig({ env: {}, overrides: { tls: { ...tls, clientPrincipals: [{ subject: 'x', roles: [] }] } } }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /tls\.clientPrincipals: needs tls\.clientCaFile/);
      return true;
    });
    assert.throws(() => loadConfig({ env: {}, overrides: { tls: { ...tls, clientCertificates: 'required' } } }), /tls\.clientCertificates: "required" needs tls\.clientCaFile/);
    assert.throws(() => loadConfig({ env: { FLIGHTGATE_TLS_CERT_FILE: files.serverCert } }), /tls\.keyFile/);
    const c = loadConfig({ env: { FLIGHTGATE_TLS_CERT_FILE: files.serverCert, FLIGHTGATE_TLS_KEY_FILE: files.serverKey, FLIGHTGATE_TLS_CLIENT_CA_FILE: files.caCert, FLIGHTGATE_TLS_CLIENT_CERTIFICATES: 'required' } });
    assert.equal(c.tls?.clientCertificates, 'required');
    assert.equal(c.tls?.clientCaFile, files.caCert);
  });

  test('tls.http false keeps the HTTP service in plain text while Flight speaks TLS', async () => {
    const server = await startTestServer({ demo: true, demoNumbersRows: 1000, tls: { certFile: files.serverCert, keyFile: files.serverKey, http: false } }, { secure: true });
    try {
      assert.match(server.uri, /^grpc\+tls:\/\//);
      assert.match(server.httpUri ?? '', /^http:\/\//);
      assert.equal((await fetch(`${server.httpUri}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('an unreadable file or a key that does not match the certificate stops the start with a clear error', async () => {
    const base = { dataDir: tempDir(), port: 0, httpPort: 0, host: '127.0.0.1', audit: { file: join(dir, 'a.log') } };
    const start = async (tls: Record<string, string>): Promise<void> => {
      const config = loadConfig({ env: {}, overrides: { ...base, tls: tls as { certFile: string; keyFile: string } } });
      const running = await startServer(config, { logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
      await running.close(0); // it should not have started
    };
    await assert.rejects(start({ certFile: join(dir, 'missing.pem'), keyFile: files.serverKey }), /tls: cannot read the certificate \(tls\.certFile\) file .*missing\.pem: ENOENT/);
    const otherKey = join(dir, 'other.key');
    writeFileSync(otherKey, privateKeyPem((await issueCertificate({ commonName: 'o', kind: 'ca', validDays: 1 })).privateKey));
    await assert.rejects(start({ certFile: files.serverCert, keyFile: otherKey }), /tls\.keyFile: .*other\.key is not the key of the certificate in tls\.certFile/);
    await assert.rejects(start({ certFile: files.serverCert, keyFile: files.serverKey, clientCaFile: files.serverKey }), /tls: tls\.clientCaFile .*server\.key holds no PEM certificate/);
  });
});
