/**
 * The OAuth flows with the official pyarrow client (py/test_pyarrow_oauth.py) against
 * `flightgate serve` configured with a real OpenID provider (oidc-provider) as external issuer,
 * with the demo group mapping of examples/oidc-demo.json. Afterwards every line the server and
 * the CLI printed, audit log included, is searched for every secret and token used.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { ROOT, runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';

let server: CliServer | undefined;
let idp: TestIssuer | undefined;
const dir = tempDir();
after(async () => {
  await server?.stop();
  await idp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('pyarrow: client credentials, external IdP tokens direct and exchanged, API keys, revocation; no secret in any log', async () => {
  idp = await startTestIssuer({
    clients: [
      { clientId: 'alice-app', clientSecret: 'alice-secret-0123456789', groups: ['user_role'] },
      { clientId: 'root-app', clientSecret: 'root-secret-0123456789', groups: ['admin_role'] },
      { clientId: 'reader-app', clientSecret: 'reader-secret-0123456789', groups: ['readonly_role'] },
    ],
  });
  // The README's demo configuration, pointed at this provider.
  const demo = JSON.parse(readFileSync(join(ROOT, 'examples/oidc-demo.json'), 'utf8')) as { oidc: { issuers: { issuer: string }[] } };
  demo.oidc.issuers[0]!.issuer = idp.issuer;
  const configFile = join(dir, 'flightgate.json');
  writeFileSync(configFile, JSON.stringify(demo));
  const data = join(dir, 'data');
  server = await startCliServer(['--config', configFile, '--data-dir', data]);
  assert.match(server.httpUri, /^http:\/\/127\.0\.0\.1:\d+$/);

  const cli = (args: string[]) => runCli([...args, '--data-dir', data, '--json'], { FLIGHTGATE_DATABASE_URL: '', FLIGHTGATE_REDIS_URL: '' });
  const client = await cli(['clients', 'add', 'nightly-etl', '--role', 'demo-db1-reader', '--scope', 'flight']);
  assert.equal(client.code, 0, client.stderr);
  const { client_id, client_secret } = JSON.parse(client.stdout) as { client_id: string; client_secret: string };
  const key = await cli(['apikeys', 'create', 'report-script', '--role', 'demo-db2-reader']);
  assert.equal(key.code, 0, key.stderr);
  const apiKey = (JSON.parse(key.stdout) as { api_key: string }).api_key;

  const tokens = { IDP_USER: await idp.accessToken('alice-app'), IDP_ADMIN: await idp.accessToken('root-app'), IDP_READONLY: await idp.accessToken('reader-app') };
  const secretsFile = join(dir, 'secrets.txt');
  writeFileSync(secretsFile, '');
  const result = await runPython(['test/interop/py/test_pyarrow_oauth.py'], {
    FG_URI: server.uri,
    FG_HTTP: server.httpUri,
    FG_CLIENT_ID: client_id,
    FG_CLIENT_SECRET: client_secret,
    FG_API_KEY: apiKey,
    FG_SECRETS_FILE: secretsFile,
    ...tokens,
  });
  assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
  assert.match(result.stderr, /Ran 7 tests/);
  assert.doesNotMatch(result.stderr, /skipped/);

  const secrets = [client_secret, apiKey, ...Object.values(tokens), ...readFileSync(secretsFile, 'utf8').split('\n').filter(Boolean)];
  assert.ok(secrets.length >= 8, `only ${secrets.length} secrets were collected`);
  await new Promise((r) => setTimeout(r, 200)); // the audit log writes in batches
  const logs = server.output.join('');
  assert.match(logs, /"event":"token.issued"/, 'the audit log was captured');
  assert.match(logs, /"method":"oidc"/);
  for (const secret of secrets) {
    // The signature or random part of each: a token's header alone is not secret.
    const needle = secret.includes('.') ? secret.split('.')[2]!.slice(0, 24) : secret.slice(4, 28);
    assert.ok(!logs.includes(needle), `a secret reached a log: ${secret.slice(0, 8)}…`);
  }
});
