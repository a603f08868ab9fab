/**
 * Flight over TLS with the certificates of `flightgate certs dev`: the TypeScript client and pyarrow
 * connect with grpc+tls:// and the root certificate; `serve --tls-*` as a new user would run it.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { runCli, startCliServer } from '../helpers/cli-server.js';
import { runPython } from '../helpers/python.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const certs = tempDir('fg-tls-');
let server: TestServer;

before(async () => {
  // The certificates a new user would make: `flightgate certs dev`.
  const made = await runCli(['certs', 'dev', '--out', certs]);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /flightgate serve --tls-cert \S+server\.pem --tls-key \S+server\.key/);
  server = await startTestServer({ demo: true, demoNumbersRows: 1000, tls: { certFile: join(certs, 'server.pem'), keyFile: join(certs, 'server.key') } });
});
after(async () => server?.stop());

test('the server announces grpc+tls and the TypeScript client reads over it', async () => {
  assert.match(server.uri, /^grpc\+tls:\/\//);
  const client = new FlightClient(server.uri, { tls: { ca: readFileSync(join(certs, 'ca.pem')) } });
  try {
    const table = await client.readTable('db1');
    assert.deepEqual([...table.getChild('name')!.toArray()], ['a', 'b', 'c']);
  } finally {
    await client.close();
  }
});

test('an untrusted server certificate is refused', async () => {
  const client = new FlightClient(server.uri);
  try {
    await assert.rejects(client.getFlightInfo('db1'), (e: unknown) => e instanceof FlightgateError);
  } finally {
    await client.close();
  }
});

test('pyarrow connects with grpc+tls and the root certificate', async () => {
  const script = `
import sys, pyarrow.flight as flight
client = flight.FlightClient(sys.argv[1], tls_root_certs=open(sys.argv[2], "rb").read())
info = client.get_flight_info(flight.FlightDescriptor.for_path("db2"))
print(client.do_get(info.endpoints[0].ticket).read_all().column("id").to_pylist())
`;
  const r = await runPython(['-c', script, server.uri.replace('127.0.0.1', 'localhost'), join(certs, 'ca.pem')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '[4, 5, 6]');
});

test('serve --tls-cert/--tls-key/--tls-client-ca from certs dev: grpc+tls and https, and the client certificate works', async () => {
  const cli = await startCliServer(['--demo', '--data-dir', tempDir(), '--tls-cert', join(certs, 'server.pem'), '--tls-key', join(certs, 'server.key'), '--tls-client-ca', join(certs, 'ca.pem')], { FLIGHTGATE_AUDIT_FILE: join(certs, 'audit.log') });
  try {
    assert.match(cli.uri, /^grpc\+tls:\/\/127\.0\.0\.1:\d+$/);
    assert.match(cli.httpUri, /^https:\/\/127\.0\.0\.1:\d+$/);
    const tls = { ca: readFileSync(join(certs, 'ca.pem')), cert: readFileSync(join(certs, 'client.pem')), key: readFileSync(join(certs, 'client.key')) };
    const client = new FlightClient(cli.uri, { tls });
    try {
      // The dev client certificate is verified but mapped to nobody: it must log in like anyone else.
      await assert.rejects(client.getFlightInfo('db1'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED' && /"dev-client" is not mapped/.test(e.message));
      await client.login('user1', 'pass1');
      assert.equal((await client.readTable('db1')).numRows, 3);
    } finally {
      await client.close();
    }
  } finally {
    await cli.stop();
  }
});

test('SIGHUP re-reads the certificate: new connections get the renewed one, the process keeps serving', async () => {
  const dir = tempDir('fg-hup-');
  assert.equal((await runCli(['certs', 'dev', '--out', dir])).code, 0);
  const cli = await startCliServer(['--demo', '--data-dir', tempDir(), '--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key')], { FLIGHTGATE_AUDIT_FILE: join(dir, 'audit.log') });
  const port = Number(new URL(cli.uri.replace('grpc+tls', 'https')).port);
  const served = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
        resolve(socket.getPeerX509Certificate()!.fingerprint256);
        socket.destroy();
      });
      socket.on('error', reject);
    });
  try {
    const before = await served();
    assert.equal(before, new X509Certificate(readFileSync(join(dir, 'server.pem'))).fingerprint256);
    assert.equal((await runCli(['certs', 'dev', '--out', dir, '--force'])).code, 0);
    cli.child.kill('SIGHUP');
    const renewed = new X509Certificate(readFileSync(join(dir, 'server.pem'))).fingerprint256;
    const deadline = Date.now() + 5000;
    let now = before;
    while (now !== renewed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = await served();
    }
    assert.equal(now, renewed);
    assert.match(cli.output.join(''), /SIGHUP: TLS certificate, key, client CA and CRL re-read/);
    const client = new FlightClient(cli.uri, { tls: { ca: readFileSync(join(dir, 'ca.pem')) } });
    try {
      await client.login('user1', 'pass1');
      assert.equal((await client.readTable('db1')).numRows, 3);
    } finally {
      await client.close();
    }
  } finally {
    await cli.stop();
  }
});
