/** Flight over TLS: the TypeScript client and pyarrow both connect with grpc+tls:// and a root certificate. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { runPython } from '../helpers/python.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const certs = tempDir('fg-tls-');
let server: TestServer;

before(async () => {
  const ext = join(certs, 'ext.cnf');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=test-ca',
    '-keyout', join(certs, 'ca.key'), '-out', join(certs, 'ca.pem'));
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', join(certs, 'server.key'), '-out', join(certs, 'server.csr'));
  ssl('x509', '-req', '-in', join(certs, 'server.csr'), '-CA', join(certs, 'ca.pem'), '-CAkey', join(certs, 'ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', join(certs, 'server.pem'));
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
