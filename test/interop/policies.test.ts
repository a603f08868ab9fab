/**
 * Row filters and column masks on every path, with the official Arrow client (pyarrow.flight,
 * py/test_policies.py) against `flightgate serve`: tenants signed in at a real identity provider
 * (their tenant is a claim of their token), a local support user under a grant from the config
 * file, an admin. Grants are made with the CLI as an operator would, `policy test` is checked
 * against what pyarrow reads, a grant changed under issued tickets applies to them, and the audit
 * log names the grants every read went through.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Float64, Int32, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { CLI, runCli, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { PYTHON, ROOT, runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';

const dir = tempDir('fg-policies-');
let server: CliServer | undefined;
let idp: TestIssuer | undefined;
after(async () => {
  await server?.stop();
  await idp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const N = 300;
const TENANTS = ['acme', 'globex', 'initech'];

test('row filters and column masks hold on every path for pyarrow, tickets follow a grant change, the audit log names the grants', { timeout: 300_000 }, async () => {
  const generated = join(dir, 'gen');
  mkdirSync(generated);
  execFileSync(PYTHON, ['-m', 'grpc_tools.protoc', `-I${join(ROOT, 'test/interop/proto')}`, `--python_out=${generated}`, 'flight_sql_subset.proto', 'flight_session.proto']);

  idp = await startTestIssuer({
    clients: [
      { clientId: 'acme-app', clientSecret: 'acme-secret-0123456789', groups: ['analysts'], claims: { tenant: 'acme' } },
      { clientId: 'globex-app', clientSecret: 'globex-secret-0123456789', groups: ['analysts'], claims: { tenant: 'globex' } },
      { clientId: 'tenantless-app', clientSecret: 'tenantless-secret-0123', groups: ['analysts'] },
    ],
  });
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const customers = new Table({
    id: vectorFromArray(Array.from({ length: N }, (_, i) => i), new Int32()),
    tenant: vectorFromArray(Array.from({ length: N }, (_, i) => TENANTS[i % 3]!), new Utf8()),
    region: vectorFromArray(Array.from({ length: N }, (_, i) => (i % 2 ? 'EU' : 'US')), new Utf8()),
    email: vectorFromArray(Array.from({ length: N }, (_, i) => `person${i}@example.com`), new Utf8()),
    ssn: vectorFromArray(Array.from({ length: N }, (_, i) => `${100 + i}-55-${String(i).padStart(4, '0')}`), new Utf8()),
    amount: vectorFromArray(Array.from({ length: N }, (_, i) => i * 1.5), new Float64()),
  });
  writeFileSync(join(data, 'customers.arrows'), tableToIPC(customers, 'stream'), { mode: 0o600 });
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    demo: true,
    auth: { registryCacheMs: 200 },
    oidc: { issuers: [{ issuer: idp.issuer, audience: idp.audience, algorithms: ['ES256'], rolesClaim: 'groups', roleMap: { analysts: ['tenant-reader'] } }] },
    grants: [{ role: 'eu-support', dataset: 'customers', actions: ['read'], rows: "region = 'EU'", columns: { email: 'last4', ssn: 'hide' } }],
  }));

  const cli = (args: string[], input?: string) => runCli([...args, '--config', config, '--data-dir', data, '--json'], { FLIGHTGATE_DATABASE_URL: '', FLIGHTGATE_REDIS_URL: '' }, input);
  const ok = async (args: string[], input?: string): Promise<Record<string, unknown>> => {
    const r = await cli(args, input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  await ok(['roles', 'create', 'tenant-reader']);
  await ok(['roles', 'create', 'eu-support']);
  // Refused at grant time, naming what is wrong: a column the dataset lacks, a mask that does not fit, a call not allowed.
  for (const [flags, message] of [
    [['--rows', "tenant = claim('tenant') AND nosuch = 1"], /names column "nosuch", which dataset "customers" does not have/],
    [['--mask', 'amount=last4'], /the mask last4 does not fit column "amount"/],
    [['--rows', "read_parquet('/etc/shadow') IS NOT NULL"], /may not call read_parquet\(\)/],
    [['--rows', 'tenant IN (SELECT tenant FROM customers)'], /subquery/],
  ] as const) {
    const r = await cli(['roles', 'grant', 'tenant-reader', '--dataset', 'customers', '--action', 'read', ...flags]);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, message);
  }
  const granted = await ok(['roles', 'grant', 'tenant-reader', '--dataset', 'customers', '--action', 'read', '--rows', "tenant = claim('tenant')", '--hide', 'ssn', '--mask', 'email=hash']);
  assert.deepEqual(granted.checked, ['customers']);
  const shown = await ok(['roles', 'show', 'tenant-reader']);
  assert.deepEqual(shown.grants, [{ id: 'tenant-reader:customers', dataset: 'customers', action: 'read', source: 'registry', policy: { rows: "tenant = claim('tenant')", columns: { ssn: 'hide', email: 'hash' } } }]);
  const support = await ok(['roles', 'show', 'eu-support']);
  assert.equal((support.grants as { source: string }[])[0]!.source, 'config');
  await ok(['users', 'add', 'sam', '--role', 'eu-support', '--password-stdin'], 'sam-password-123\n');
  await ok(['users', 'add', 'nobody', '--password-stdin'], 'nobody-password-123\n');

  const preview = await ok(['policy', 'test', '--roles', 'tenant-reader', '--claims', '{"tenant": "acme"}', '--dataset', 'customers', '--rows', '5']);
  assert.equal(preview.restricted, true);
  assert.deepEqual(preview.hidden, ['ssn']);
  assert.deepEqual((preview.schema as { name: string }[]).map((f) => f.name), ['id', 'tenant', 'region', 'email', 'amount']);
  const previewRows = preview.rows as { id: number; tenant: string; email: string }[];
  assert.equal(previewRows.length, 5);
  assert.ok(previewRows.every((r) => r.tenant === 'acme' && /^[0-9a-f]{32}$/.test(r.email)));
  const samPreview = await ok(['policy', 'test', '--user', 'sam', '--dataset', 'customers']);
  assert.deepEqual(samPreview.grants, ['config:eu-support:customers']);
  const denied = await cli(['policy', 'test', '--user', 'nobody', '--dataset', 'customers']);
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /PERMISSION_DENIED/);

  // A config file grant whose policy does not fit stops the start, naming the entry and why.
  const badConfig = join(dir, 'bad.json');
  writeFileSync(badConfig, JSON.stringify({ grants: [{ role: 'x', dataset: 'customers', actions: ['read'], rows: 'nosuch = 1' }] }));
  const bad = await runCli(['serve', '--config', badConfig, '--data-dir', data, '--port', '0', '--http-port', '0'], { FLIGHTGATE_DATABASE_URL: '', FLIGHTGATE_REDIS_URL: '' });
  assert.equal(bad.code, 2, bad.stdout);
  assert.match(bad.stderr, /grants\[0\] \(role x, dataset customers\): dataset "customers": the row filter names column "nosuch"/);

  server = await startCliServer(['--config', config, '--data-dir', data]);
  const [acme, globex, tenantless] = await Promise.all([idp.accessToken('acme-app'), idp.accessToken('globex-app'), idp.accessToken('tenantless-app')]);
  const out = join(dir, 'observed.json');
  const result = await runPython(['test/interop/py/test_policies.py'], {
    PYTHONPATH: join(ROOT, 'test/interop/py'),
    FG_GEN: generated,
    FG_URI: server.uri,
    FG_ACME_TOKEN: acme,
    FG_GLOBEX_TOKEN: globex,
    FG_TENANTLESS_TOKEN: tenantless,
    FG_CLI: `${process.execPath} ${CLI}`,
    FG_CLI_ARGS: JSON.stringify(['--config', config, '--data-dir', data]),
    FG_ROWS: String(N),
    FG_OUT: out,
  }, 240_000);
  assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
  assert.match(result.stderr, /Ran \d+ tests/);
  assert.doesNotMatch(result.stderr, /skipped/);

  // What pyarrow read is what `policy test` showed: the same pseudonyms (one key, from the registry).
  const observed = JSON.parse(readFileSync(out, 'utf8')) as { acmeEmails: Record<string, string> };
  for (const r of previewRows) assert.equal(observed.acmeEmails[String(r.id)], r.email, `row ${r.id}`);

  await new Promise((r) => setTimeout(r, 300)); // the audit log writes in batches
  const lines = server.output.join('').split('\n').filter((l) => l.includes('"event":"data.access"') || l.includes('"event":"sql.query"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
  const reads = lines.filter((l) => l.event === 'data.access' && l.dataset === 'customers' && l.rpc === 'DoGet' && l.outcome === 'ok');
  assert.ok(reads.some((l) => l.principal === 'acme-app' && l.restricted === true && JSON.stringify(l.grants) === '["tenant-reader:customers"]' && l.rows === N / 3), 'a tenant read names its grant and its row count');
  assert.ok(reads.some((l) => l.principal === 'sam' && l.restricted === true && JSON.stringify(l.grants) === '["config:eu-support:customers"]'), 'a config grant is named as such');
  assert.ok(reads.some((l) => l.principal === 'admin' && l.restricted === false && JSON.stringify(l.grants) === '["demo-admin:*"]'), 'an unrestricted read names the grant too');
  const queries = lines.filter((l) => l.event === 'sql.query' && l.outcome === 'ok' && String(l.statement).includes('customers'));
  assert.ok(queries.some((q) => q.principal === 'acme-app' && JSON.stringify(q.policies) === '["tenant-reader:customers"]'), 'a SQL read names the policies it went through');
  const logs = server.output.join('');
  for (const secret of [acme.split('.')[2]!, 'sam-password-123']) assert.ok(!logs.includes(secret.slice(4, 28)), 'no secret in the logs');
});
