/**
 * The device authorization endpoint takes requests without credentials, so what it stores is
 * bounded: past web.maxPendingDeviceCodes waiting requests, it answers 503 naming the setting,
 * under a burst of concurrent requests too.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer(
    {
      demo: true,
      demoNumbersRows: 10,
      web: { maxPendingDeviceCodes: 20 },
      // A login makes the device flow available; the provider is never asked in this test.
      oidc: { issuers: [{ issuer: 'https://idp.invalid', audience: 'api://flightgate', login: { clientId: 'flightgate-web', clientSecret: 'x' } }] },
    },
    { secure: true },
  );
});
after(async () => server?.stop());

const ask = () =>
  fetch(`${server.httpUri}/oauth2/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=flightgate-cli' });

test('a burst of device authorization requests: at most the configured number wait, the rest get 503 naming the setting', async () => {
  const answers = await Promise.all(Array.from({ length: 60 }, ask));
  const ok = answers.filter((r) => r.status === 200).length;
  assert.ok(ok >= 20 && ok <= 24, `${ok} requests were given codes`);
  for (const r of answers.filter((a) => a.status !== 200)) {
    assert.equal(r.status, 503);
    const body = (await r.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'temporarily_unavailable');
    assert.match(body.error_description, /web\.maxPendingDeviceCodes/);
  }
  for (let i = 0; i < 3; i++) assert.equal((await ask()).status, 503, 'still full afterwards');
});
