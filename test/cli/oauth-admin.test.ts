/** The clients, apikeys and keys commands: what an operator types and sees, and what changes on a running server. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli-server.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const dir = tempDir();
let server: TestServer;
before(async () => {
  // The CLI and the server share the SQLite registry in `dir`.
  server = await startTestServer({ demo: true, dataDir: dir, tokens: { keyReloadSeconds: 0.2 } }, { secure: true });
});
after(async () => {
  await server.stop({ keepData: true });
  rmSync(dir, { recursive: true, force: true });
});
const cli = (args: string[]) => runCli([...args, '--data-dir', dir], { FLIGHTGATE_DATABASE_URL: '', FLIGHTGATE_REDIS_URL: '' });

async function tokenStatus(id: string, secret: string): Promise<number> {
  const res = await fetch(`${server.httpUri}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  await res.arrayBuffer();
  return res.status;
}

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('clients: add prints the secret once; rotate-secret, disable, enable and delete take effect on the server', async () => {
  const add = await cli(['clients', 'add', 'etl', '--role', 'demo-db1-reader', '--scope', 'flight', '--json']);
  assert.equal(add.code, 0, add.stderr);
  const created = JSON.parse(add.stdout) as Record<string, string>;
  assert.deepEqual(Object.keys(created).sort(), ['client_id', 'client_secret']);
  assert.match(created.client_id!, /^etl-[0-9a-f]{8}$/);
  assert.match(created.client_secret!, /^fgc_[A-Za-z0-9_-]{43}$/, '256 random bits');
  const human = await cli(['clients', 'add', 'etl2', '--role', 'demo-db1-reader']);
  assert.match(human.stdout, /client_secret: fgc_/);
  assert.match(human.stdout, /shown only now/);

  const list = await cli(['clients', 'list', '--json']);
  assert.ok(!list.stdout.includes(created.client_secret!), 'list never shows secrets');
  const clients = JSON.parse(list.stdout) as { client_id: string; roles: string[]; scopes: string[]; disabled: boolean }[];
  assert.deepEqual(clients.find((c) => c.client_id === created.client_id)?.scopes, ['flight']);
  assert.ok(!readFileSync(`${dir}/flightgate.db`).includes(Buffer.from(created.client_secret!)), 'the registry holds no secret in the clear');

  // While a job keeps the server's caches warm with the old credentials, each command takes
  // effect by the time it returns: the very next request is refused.
  const warm = (id: string, secret: string): { stop(): Promise<void> } => {
    let running = true;
    const loop = (async () => {
      while (running) await tokenStatus(id, secret);
    })();
    return { stop: async () => { running = false; await loop; } };
  };
  assert.equal(await tokenStatus(created.client_id!, created.client_secret!), 200);
  let hot = warm(created.client_id!, created.client_secret!);
  const rotated = JSON.parse((await cli(['clients', 'rotate-secret', 'etl', '--json'])).stdout) as { client_secret: string };
  assert.equal(await tokenStatus(created.client_id!, created.client_secret!), 401, 'the old secret is refused as soon as rotate-secret returns');
  await hot.stop();
  assert.notEqual(rotated.client_secret, created.client_secret);
  assert.equal(await tokenStatus(created.client_id!, rotated.client_secret), 200);

  hot = warm(created.client_id!, rotated.client_secret);
  assert.equal((await cli(['clients', 'disable', created.client_id!])).code, 0);
  assert.equal(await tokenStatus(created.client_id!, rotated.client_secret), 401, 'refused as soon as disable returns');
  await hot.stop();
  assert.equal((await cli(['clients', 'enable', 'etl'])).code, 0);
  await eventually(async () => (await tokenStatus(created.client_id!, rotated.client_secret)) === 200);
  assert.equal((await cli(['clients', 'delete', 'etl'])).code, 0);
  assert.equal(await tokenStatus(created.client_id!, rotated.client_secret), 401, 'refused as soon as delete returns');

  assert.equal((await cli(['clients', 'add', 'x', '--role', 'no-such-role'])).code, 1);
  assert.equal((await cli(['clients', 'add', 'x'])).code, 2, 'a role is required');
  assert.equal((await cli(['clients', 'add', 'etl2', '--role', 'demo-db1-reader'])).code, 1, 'names are unique');
  assert.equal((await cli(['clients', 'delete', 'nobody'])).code, 1);
  assert.equal((await cli(['clients', 'frobnicate'])).code, 2);
});

test('apikeys: create prints the key once, with an optional expiry; list shows state; revoke', async () => {
  const create = await cli(['apikeys', 'create', 'reports', '--role', 'demo-db2-reader', '--expires-in', '30d', '--json']);
  assert.equal(create.code, 0, create.stderr);
  const key = JSON.parse(create.stdout) as { api_key: string; expires_at: string; state: string };
  assert.match(key.api_key, /^fgk_[A-Za-z0-9_-]{43}$/);
  assert.equal(key.state, 'active');
  assert.ok(Math.abs(Date.parse(key.expires_at) - Date.now() - 30 * 86_400_000) < 60_000);
  const list = await cli(['apikeys', 'list', '--json']);
  assert.ok(!list.stdout.includes(key.api_key));
  assert.equal((await cli(['apikeys', 'revoke', 'reports'])).code, 0);
  const after = JSON.parse((await cli(['apikeys', 'list', '--json'])).stdout) as { name: string; state: string }[];
  assert.deepEqual(after.map((k) => [k.name, k.state]), [['reports', 'revoked']]);
  assert.equal((await cli(['apikeys', 'create', 'bad', '--role', 'demo-db2-reader', '--expires-in', 'soon'])).code, 2);
  assert.equal((await cli(['apikeys', 'create', 'norole'])).code, 2);
  assert.equal((await cli(['apikeys', 'revoke', 'nothing'])).code, 1);
});

test('keys: list shows the signing key; rotate adds one that the server starts signing with', async () => {
  const before = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as { kid: string; state: string }[];
  assert.deepEqual(before.map((k) => k.state), ['signing']);
  const rotate = await cli(['keys', 'rotate', '--json']);
  assert.equal(rotate.code, 0, rotate.stderr);
  const fresh = JSON.parse(rotate.stdout) as { kid: string };
  const after = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as { kid: string; state: string; retire_at: string | null }[];
  assert.deepEqual(after.map((k) => [k.kid, k.state]), [[before[0]!.kid, 'published'], [fresh.kid, 'signing']]);
  assert.ok(after[0]!.retire_at && Date.parse(after[0]!.retire_at) > Date.now() + 600_000, 'the old key stays published beyond the token lifetime');
  await eventually(async () => {
    const jwks = (await (await fetch(`${server.httpUri}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    return jwks.keys.some((k) => k.kid === fresh.kid);
  });
});
