/**
 * Browser sign-in with a real identity provider (oidc-provider on loopback, two people in
 * different groups) in a real browser (Debian's Chromium driven by playwright-core): sign in, see
 * exactly the datasets of your groups, make a personal access token, read a dataset with it from
 * pyarrow, revoke it and see pyarrow refused; and the attacks: a tampered state, a replayed
 * callback, a wrong nonce, a wrong PKCE verifier, a cross-site form post, a missing CSRF token.
 * Screenshots of the pages are kept in test-artifacts/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ExternalIssuer } from '../../src/tokens/external-issuer.js';
import { LoginError, OidcLogin } from '../../src/tokens/oidc-login.js';
import { loadConfig } from '../../src/config/load.js';
import { freePort } from '../helpers/free-port.js';
import { ROOT, runPython } from '../helpers/python.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSignInIssuer, type SignInIssuer } from '../helpers/sign-in-issuer.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
let idp: SignInIssuer;
let server: TestServer;
let browser: Browser;
let base: string;

before(async () => {
  const httpPort = await freePort();
  base = `http://127.0.0.1:${httpPort}`;
  idp = await startSignInIssuer({ redirectUri: `${base}/callback`, people: { alice: ['analysts'], bob: ['sales'] } });
  server = await startTestServer(
    {
      demo: true,
      httpPort,
      tokens: { issuer: base },
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

test('a wrong nonce or a wrong PKCE verifier: the sign-in fails', async () => {
  const config = loadConfig({ env: {}, overrides: { oidc: { issuers: [{ issuer: idp.issuer, audience: 'api://flightgate', login: { clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: ['openid', 'groups'] } }] } } });
  // Registered at the provider too, but answered by nobody: the code stays unredeemed for the test to use.
  const login = new OidcLogin(new ExternalIssuer(config.oidc.issuers[0]!), config.oidc.issuers[0]!.login!, `${base}/callback-held`);
  for (const spoil of ['nonce', 'verifier'] as const) {
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
    const spoiled = { ...pending, [spoil]: `${pending[spoil]}x` };
    await assert.rejects(login.finish({ code, state: pending.state }, spoiled, Math.floor(Date.now() / 1000)), (e: unknown) => {
      assert.ok(e instanceof LoginError, String(e));
      assert.match(e.message, spoil === 'nonce' ? /another nonce/ : /did not redeem the code/);
      return true;
    });
  }
});
