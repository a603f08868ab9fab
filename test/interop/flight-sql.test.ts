/**
 * Flight SQL with a Python client made from FlightSql.proto over pyarrow.flight
 * (py/test_flight_sql.py), against `flightgate serve --demo`: the connect-time walk of the JDBC
 * and ADBC drivers in every way of signing in (Basic, session bearer, our JWT from client
 * credentials, an external IdP's token, an API key, a client certificate), results compared
 * with DuckDB's own, every escape refused, and the limits with real queries running. Afterwards
 * the audit log must hold a `sql.query` line per statement and no secret.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { issueCertificate, privateKeyPem } from '../../src/tls/certificate-builder.js';
import { runCli, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { PYTHON, ROOT, runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';

const dir = tempDir('fg-sql-');
const servers: CliServer[] = [];
let idp: TestIssuer | undefined;
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await idp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('Flight SQL: JDBC/ADBC connect walk in every auth mode, DuckDB-equal results, escapes refused, limits hold', { timeout: 600_000 }, async () => {
  const generated = join(dir, 'gen');
  mkdirSync(generated);
  execFileSync(PYTHON, ['-m', 'grpc_tools.protoc', `-I${join(ROOT, 'test/interop/proto')}`, `--python_out=${generated}`, 'flight_sql_subset.proto', 'flight_session.proto']);

  idp = await startTestIssuer({ clients: [{ clientId: 'alice-app', clientSecret: 'alice-secret-0123456789', groups: ['user_role'] }] });
  const demo = JSON.parse(readFileSync(join(ROOT, 'examples/oidc-demo.json'), 'utf8')) as { oidc: { issuers: { issuer: string }[] } };
  demo.oidc.issuers[0]!.issuer = idp.issuer;
  const mainConfig = join(dir, 'main.json');
  writeFileSync(mainConfig, JSON.stringify(demo));

  const ca = await issueCertificate({ commonName: 'sql test CA', kind: 'ca', validDays: 2 });
  const serverCert = await issueCertificate({ commonName: 'localhost', kind: 'server', altNames: ['localhost', '127.0.0.1'], validDays: 2 }, ca);
  const clientCert = await issueCertificate({ commonName: 'etl-job', kind: 'client', validDays: 2 }, ca);
  const file = (name: string, content: string): string => {
    const p = join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  };
  const tlsConfig = join(dir, 'mtls.json');
  writeFileSync(tlsConfig, JSON.stringify({
    demo: true,
    tls: {
      certFile: file('server.pem', serverCert.certificatePem),
      keyFile: file('server.key', privateKeyPem(serverCert.privateKey)),
      clientCaFile: file('ca.pem', ca.certificatePem),
      clientCertificates: 'optional',
      clientPrincipals: [{ subject: 'etl-job', principal: 'svc-etl', roles: ['demo-db1-reader'] }],
    },
  }));

  const data = { main: join(dir, 'main'), mtls: join(dir, 'mtls'), limits: join(dir, 'limits') };
  const rows = { FLIGHTGATE_DEMO_NUMBERS_ROWS: '200000' };
  const [main, mtls, limits] = await Promise.all([
    startCliServer(['--config', mainConfig, '--data-dir', data.main], rows),
    startCliServer(['--config', tlsConfig, '--data-dir', data.mtls], rows),
    startCliServer(['--demo', '--data-dir', data.limits], {
      ...rows,
      FLIGHTGATE_SQL_MAX_QUERY_SECONDS: '2',
      FLIGHTGATE_SQL_MAX_CONCURRENT_QUERIES_PER_PRINCIPAL: '1',
      FLIGHTGATE_SQL_MEMORY_LIMIT: '64MB',
      FLIGHTGATE_SQL_MAX_TEMP_DIRECTORY_SIZE: '1MB',
    }),
  ]);
  servers.push(main!, mtls!, limits!);

  const cli = (args: string[], input?: string) => runCli([...args, '--data-dir', data.main, '--json'], { FLIGHTGATE_DATABASE_URL: '', FLIGHTGATE_REDIS_URL: '' }, input);
  const client = await cli(['clients', 'add', 'sql-etl', '--role', 'demo-db1-reader', '--scope', 'flight']);
  assert.equal(client.code, 0, client.stderr);
  const { client_id, client_secret } = JSON.parse(client.stdout) as { client_id: string; client_secret: string };
  const key = await cli(['apikeys', 'create', 'sql-report', '--role', 'demo-db2-reader']);
  assert.equal(key.code, 0, key.stderr);
  const apiKey = (JSON.parse(key.stdout) as { api_key: string }).api_key;
  const nogrant = await cli(['users', 'add', 'nobody', '--password-stdin'], 'nobody-password-123\n');
  assert.equal(nogrant.code, 0, nogrant.stderr);
  const idpToken = await idp.accessToken('alice-app');

  const result = await runPython(['test/interop/py/test_flight_sql.py'], {
    PYTHONPATH: join(ROOT, 'test/interop/py'),
    FG_GEN: generated,
    FG_URI: main!.uri,
    FG_HTTP: main!.httpUri,
    FG_MTLS_URI: mtls!.uri.replace('127.0.0.1', 'localhost'),
    FG_CA: join(dir, 'ca.pem'),
    FG_CLIENT_CERT: file('client.pem', clientCert.certificatePem),
    FG_CLIENT_KEY: file('client.key', privateKeyPem(clientCert.privateKey)),
    FG_LIMITS_URI: limits!.uri,
    FG_CLIENT_ID: client_id,
    FG_CLIENT_SECRET: client_secret,
    FG_API_KEY: apiKey,
    FG_IDP_TOKEN: idpToken,
    FG_NOGRANT_USER: 'nobody',
    FG_NOGRANT_PASSWORD: 'nobody-password-123',
  }, 540_000);
  assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
  assert.match(result.stderr, /Ran \d+ tests/);
  assert.doesNotMatch(result.stderr, /skipped/);

  await new Promise((r) => setTimeout(r, 200)); // the audit log writes in batches
  const logs = servers.map((s) => s.output.join('')).join('\n');
  const queries = logs.split('\n').filter((l) => l.includes('"event":"sql.query"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
  assert.ok(queries.length > 50, `every statement is audited (${queries.length} sql.query lines)`);
  const done = queries.find((q) => String(q.statement).startsWith('SELECT name, count(*) FROM numbers'));
  assert.ok(done, 'the demo query is in the audit log');
  assert.equal(done.outcome, 'ok');
  assert.equal(done.rows, 5);
  assert.match(String(done.statementHash), /^[0-9a-f]{64}$/);
  assert.equal(typeof done.durationMs, 'number');
  assert.ok(queries.some((q) => q.outcome === 'error' && q.reason === 'CANCELLED'), 'a cancelled query is audited as such');
  const escape = queries.find((q) => q.statement === "SELECT * FROM read_csv('/etc/passwd')" && q.principal === 'nobody');
  assert.ok(escape, 'a refused escape is audited');
  assert.equal(escape.outcome, 'error');
  assert.equal(escape.reason, 'INVALID_ARGUMENT');
  assert.equal(escape.rpc, 'GetFlightInfo');
  for (const secret of [client_secret, apiKey, idpToken.split('.')[2]!, 'nobody-password-123', 'admin123']) {
    assert.ok(!logs.includes(secret.slice(4, 28)), `a secret reached a log: ${secret.slice(0, 6)}…`);
  }
});
