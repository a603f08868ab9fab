/**
 * Browser sign-in with a real identity provider (oidc-provider on loopback, two people in
 * different groups) in a real browser (Debian's Chromium driven by playwright-core): sign in, see
 * exactly the datasets of your groups, make a personal access token, read a dataset with it from
 * pyarrow, revoke it and see pyarrow refused; and the attacks: a tampered state, a replayed
 * callback, a wrong nonce, a wrong PKCE verifier, a cross-site form post, a missing CSRF token.
 * Screenshots of the pages are kept in test-artifacts/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ExternalIssuer } from '../../src/tokens/external-issuer.js';
import { loadClientKey, LoginError, OidcLogin } from '../../src/tokens/oidc-login.js';
import { loadConfig } from '../../src/config/load.js';
import { freePort } from '../helpers/free-port.js';
import { ROOT, runPython } from '../helpers/python.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { CLI } from '../helpers/cli-server.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { storedTokenSource } from '../../src/flight/client/stored-credentials.js';
import { startSignInIssuer, type SignInIssuer } from '../helpers/sign-in-issuer.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
let idp: SignInIssuer;
let server: TestServer;
let browser: Browser;
let base: string;
const clientKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

before(async () => {
  const httpPort = await freePort();
  base = `http://127.0.0.1:${httpPort}`;
  idp = await startSignInIssuer({
    redirectUri: `${base}/callback`,
    people: { alice: ['analysts'], bob: ['sales'] },
    keyClient: { clientId: 'flightgate-keyed', publicJwk: { ...clientKeys.publicKey.export({ format: 'jwk' }), kid: 'web-1', alg: 'ES256', use: 'sig' } },
  });
  server = await startTestServer(
    {
      demo: true,
      httpPort,
      tokens: { issuer: base },
      web: { devicePollSeconds: 1, deviceCodeSeconds: 5 },
      oidc: {
        issuers: [
          {
            issuer: idp.issuer,
            audience: 'api://flightgate',
            roleMap: { analysts: ['demo-db1-reader'], sales: ['demo-db2-reader'] },
            login: { clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: ['openid', 'groups'], label: 'Example SSO' },
          },
        ],
      },
    },
    { secure: true },
  );
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await idp?.stop();
});

/** The provider's consent page: Continue. */
async function consent(page: Page): Promise<void> {
  await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached' });
  await page.click('button[type=submit]');
}

/** Signs `who` in through the provider's own login and consent pages; returns the page on /access. */
async function signIn(who: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/login`);
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.fill('input[name=login]', who);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await consent(page);
  await page.waitForURL(`${base}/access`);
  return page;
}

async function pyarrowRead(token: string, dataset: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `import sys, pyarrow.flight as fl
c = fl.FlightClient(sys.argv[1])
o = fl.FlightCallOptions(headers=[(b"authorization", ("Bearer " + sys.argv[2]).encode())])
try:
    print(c.do_get(fl.Ticket(sys.argv[3].encode()), o).read_all().num_rows)
except fl.FlightUnauthenticatedError as e:
    print("UNAUTHENTICATED"); sys.exit(3)
`;
  return runPython(['-c', script, server.uri, token, dataset]);
}

test('alice signs in, sees only the datasets of her group, makes a token that pyarrow reads with, and revokes it', async () => {
  const page = await signIn('alice');
  const text = await page.textContent('body');
  assert.match(text!, /Signed in as alice/);
  assert.match(text!, /demo-db1-reader/);
  const datasets = await page.$$eval('#datasets tr td:first-child code', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(datasets, ['db1'], 'exactly the datasets her group may read');
  await page.screenshot({ path: join(ARTIFACTS, 'access-page.png'), fullPage: true });
  // The cookie: HttpOnly, SameSite=Lax, and a token that is no Flight bearer.
  const [cookie] = await page.context().cookies(base);
  assert.equal(cookie!.httpOnly, true);
  assert.equal(cookie!.sameSite, 'Lax');
  assert.equal((await pyarrowRead(cookie!.value, 'db1')).code, 3, 'the web session cookie is not a bearer token');

  await page.fill('input[name=label]', 'notebook');
  await page.click('text=Create token');
  await page.waitForLoadState();
  if (!(await page.$('#token'))) assert.fail(`no token shown: ${await page.textContent('body')}`);
  const token = (await page.textContent('#token'))!.trim();
  assert.match(token, /^fgk_/);
  assert.ok(!page.url().includes(token), 'no token in any URL');
  assert.match((await page.textContent('body'))!, /jdbc:arrow-flight-sql:\/\//);
  await page.screenshot({ path: join(ARTIFACTS, 'token-created.png'), fullPage: true });

  const read = await pyarrowRead(token, 'db1');
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout.trim(), '3');
  const denied = await pyarrowRead(token, 'db2');
  assert.notEqual(denied.code, 0, 'the token has her roles only');

  await page.goto(`${base}/access`);
  assert.match((await page.textContent('body'))!, /notebook/);
  await page.click('text=Revoke');
  await page.waitForURL(`${base}/access`);
  assert.match((await page.textContent('body'))!, /revoked/);
  // API keys are cached for tokens.apiKeyCacheMs (1 s): refused within that.
  const deadline = Date.now() + 5000;
  let after = await pyarrowRead(token, 'db1');
  while (after.code !== 3 && Date.now() < deadline) after = await pyarrowRead(token, 'db1');
  assert.equal(after.code, 3, 'a revoked token is refused');

  // Sign out: the web session ends, and the browser goes on to the provider's end-session page.
  await page.click('text=Sign out');
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.screenshot({ path: join(ARTIFACTS, 'signed-out-at-idp.png'), fullPage: true });
  const again = await page.request.get(`${base}/access`, { maxRedirects: 0 });
  assert.equal(again.status(), 303, 'the access page sends a signed-out browser to sign in');
  assert.equal(again.headers().location, '/login');
});

test('bob, in another group, sees only his datasets', async () => {
  const page = await signIn('bob');
  const datasets = await page.$$eval('#datasets tr td:first-child code', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(datasets, ['db2']);
});

test('a cross-site form post and a post without the CSRF token are refused', async () => {
  const page = await signIn('alice');
  // Through the browser context, with its cookies, as a page of another site would make the browser send it.
  const post = async (headers: Record<string, string>, body: string) =>
    page.request.post(`${base}/access/tokens`, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, data: body, maxRedirects: 0 });
  const csrf = await page.getAttribute('input[name=csrf]', 'value');
  assert.equal((await post({ origin: 'https://evil.example' }, `csrf=${csrf}&label=x&days=1&role=demo-db1-reader`)).status(), 403);
  assert.equal((await post({ origin: base }, 'label=x&days=1&role=demo-db1-reader')).status(), 403);
  const ok = await post({ origin: base }, `csrf=${csrf}&label=x&days=1&role=demo-db1-reader`);
  assert.equal(ok.status(), 200, 'with both, it works');
  // Pages cannot be framed and run under a strict CSP.
  const csp = ok.headers()['content-security-policy']!;
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
});

test('a tampered state and a replayed callback are refused', async () => {
  const page = await (await browser.newContext()).newPage();
  let callback = '';
  page.on('request', (r) => {
    if (r.url().startsWith(`${base}/callback`)) callback = r.url();
  });
  await page.goto(`${base}/login`);
  await page.fill('input[name=login]', 'alice');
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  // Before consenting, the pending-login cookie is in the browser: a callback with another state must fail.
  const loginCookie = (await page.context().cookies(base)).find((c) => c.name === 'fg_login')!;
  const tampered = await fetch(`${base}/callback?code=abc&state=not-the-state`, { headers: { cookie: `fg_login=${loginCookie.value}` } });
  assert.equal(tampered.status, 400);
  assert.match(await tampered.text(), /another state/);
  await consent(page);
  await page.waitForURL(`${base}/access`);
  assert.ok(callback.includes('code='));
  // The same callback again, with the same pending-login cookie: refused (state used), and the provider would refuse the code too.
  const replay = await fetch(callback, { headers: { cookie: `fg_login=${loginCookie.value}` }, redirect: 'manual' });
  assert.equal(replay.status, 400);
  assert.match(await replay.text(), /already used/);
});

/** Runs a sign-in of alice for `login` in the browser up to our held callback; returns the code and what the sign-in started with. */
async function heldCode(login: OidcLogin): Promise<{ code: string; pending: { state: string; nonce: string; verifier: string } }> {
  const { url, pending } = await login.start();
  const page = await (await browser.newContext()).newPage();
  let code = '';
  page.on('request', (r) => {
    if (r.url().startsWith(`${base}/callback-held`)) code = new URL(r.url()).searchParams.get('code') ?? '';
  });
  await page.goto(url);
  await page.fill('input[name=login]', 'alice');
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await consent(page);
  await page.waitForURL((u) => u.pathname === '/callback-held');
  assert.ok(code);
  return { code, pending };
}

test('a client authenticating with private_key_jwt signs in', async () => {
  const file = join(tempDir(), 'web-client.pem');
  writeFileSync(file, clientKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const config = loadConfig({ env: {}, overrides: { oidc: { issuers: [{ issuer: idp.issuer, audience: 'api://flightgate', roleMap: { analysts: ['demo-db1-reader'] }, login: { clientId: 'flightgate-keyed', privateKeyFile: file, keyId: 'web-1', scopes: ['openid', 'groups'] } }] } } });
  const issuer = config.oidc.issuers[0]!;
  const login = new OidcLogin(new ExternalIssuer(issuer), issuer.login!, `${base}/callback-held`, loadClientKey(file, 'web-1'));
  const { code, pending } = await heldCode(login);
  const identity = await login.finish({ code, state: pending.state }, pending, Math.floor(Date.now() / 1000));
  assert.equal(identity.subject, 'alice');
  assert.deepEqual(identity.roles, ['demo-db1-reader']);
});

test('a wrong nonce or a wrong PKCE verifier: the sign-in fails', async () => {
  const config = loadConfig({ env: {}, overrides: { oidc: { issuers: [{ issuer: idp.issuer, audience: 'api://flightgate', login: { clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: ['openid', 'groups'] } }] } } });
  // Registered at the provider too, but answered by nobody: the code stays unredeemed for the test to use.
  const login = new OidcLogin(new ExternalIssuer(config.oidc.issuers[0]!), config.oidc.issuers[0]!.login!, `${base}/callback-held`);
  for (const spoil of ['nonce', 'verifier'] as const) {
    const { code, pending } = await heldCode(login);
    const spoiled = { ...pending, [spoil]: `${pending[spoil]}x` };
    await assert.rejects(login.finish({ code, state: pending.state }, spoiled, Math.floor(Date.now() / 1000)), (e: unknown) => {
      assert.ok(e instanceof LoginError, String(e));
      assert.match(e.message, spoil === 'nonce' ? /another nonce/ : /did not redeem the code/);
      return true;
    });
  }
  // No PKCE verifier at all: the provider will not redeem the code either.
  const held = await heldCode(login);
  await assert.rejects(login.finish({ code: held.code, state: held.pending.state }, { ...held.pending, verifier: '' }, Math.floor(Date.now() / 1000)), /did not redeem the code/);
});

test('flightgate login: the device flow approved in the browser; the saved tokens work on Flight, for pyarrow and FlightClient', async () => {
  const meta = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as { device_authorization_endpoint?: string; grant_types_supported: string[] };
  assert.equal(meta.device_authorization_endpoint, `${base}/oauth2/device_authorization`);
  assert.ok(meta.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:device_code'));
  const config = tempDir();
  const cli = spawn(process.execPath, [CLI, 'login', '--server', base], { env: { ...process.env, XDG_CONFIG_HOME: config }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
  const link = await new Promise<string>((resolve) => createInterface({ input: cli.stdout! }).on('line', (line) => {
    const m = /^To sign in, open (\S+)$/.exec(line);
    if (m) resolve(m[1]!);
  }));
  assert.match(link, /\/device\?user_code=[B-Z]{4}-[B-Z]{4}$/);
  const page = await signIn('alice');
  await page.goto(link);
  await page.screenshot({ path: join(ARTIFACTS, 'device-approval.png'), fullPage: true });
  await page.click('button[value=approve]');
  assert.match((await page.textContent('body'))!, /Approved/);
  assert.equal(await exited, 0, stderr);
  const file = join(config, 'flightgate', 'credentials.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(config, 'flightgate')).mode & 0o777, 0o700);
  const saved = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { access_token: string; refresh_token: string }>)[base]!;
  const read = await pyarrowRead(saved.access_token, 'db1');
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout.trim(), '3');
  // FlightClient from the saved sign-in: the refresh token is used (and its successor saved).
  const source = await storedTokenSource(base, file);
  const client = new FlightClient(server.uri, { tokenSource: source });
  try {
    assert.equal((await client.readTable('db1')).numRows, 3);
    await assert.rejects(client.readTable('db2'), /PERMISSION_DENIED|may not read/);
  } finally {
    await client.close();
    source.close();
  }
  const rotated = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { refresh_token: string }>)[base]!;
  assert.notEqual(rotated.refresh_token, saved.refresh_token, 'the rotated refresh token was written back');
  // And the documented Python helper, twice: each use redeems the newest refresh token.
  const helper = `import sys; sys.path.insert(0, "clients/python")
import pyarrow.flight as flight
from flightgate_login import bearer_header
for _ in range(2):
    options = flight.FlightCallOptions(headers=[bearer_header(sys.argv[1])])
    print(flight.FlightClient(sys.argv[2]).do_get(flight.Ticket(b"db1"), options).read_all().num_rows)
`;
  const py = await runPython(['-c', helper, base, server.uri], { XDG_CONFIG_HOME: config });
  assert.equal(py.code, 0, py.stderr);
  assert.deepEqual(py.stdout.trim().split('\n'), ['3', '3']);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'still readable by its owner only');
});

test('device flow polling follows RFC 8628: authorization_pending, slow_down, access_denied, expired_token', async () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const start = async () => (await (await fetch(`${base}/oauth2/device_authorization`, { method: 'POST', headers: form, body: 'client_id=flightgate-cli' })).json()) as { device_code: string; user_code: string; interval: number };
  const poll = async (device: string) => {
    const res = await fetch(`${base}/oauth2/token`, { method: 'POST', headers: form, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device, client_id: 'flightgate-cli' }) });
    return ((await res.json()) as { error?: string }).error;
  };
  const refused = await fetch(`${base}/oauth2/device_authorization`, { method: 'POST', headers: form, body: 'client_id=someone-else' });
  assert.equal(refused.status, 401);
  const a = await start();
  assert.equal(a.interval, 1);
  assert.equal(await poll(a.device_code), 'authorization_pending');
  assert.equal(await poll(a.device_code), 'slow_down', 'a second poll within the interval');
  assert.equal(await poll('fgd_not-a-code'), 'invalid_grant');
  const page = await signIn('bob');
  const denied = await start();
  await page.goto(`${base}/device?user_code=${denied.user_code}`);
  await page.click('button[value=deny]');
  assert.match((await page.textContent('body'))!, /refused/);
  assert.equal(await poll(denied.device_code), 'access_denied');
  const b = await start();
  await new Promise((r) => setTimeout(r, 5200)); // web.deviceCodeSeconds is 5 here
  assert.equal(await poll(b.device_code), 'expired_token');
  // An expired code can no longer be approved on the page.
  await page.goto(`${base}/device?user_code=${b.user_code}`);
  await page.click('button[value=approve]');
  assert.match((await page.textContent('body'))!, /No request waits for this code/);
});
