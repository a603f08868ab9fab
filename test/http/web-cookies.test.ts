/** The sign-in cookies: attributes under TLS and without, and the sealed pending-login value. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { clearCookie, cookieNames, readCookie, seal, setCookie, unseal } from '../../src/http/web/cookies.js';

test('under TLS the cookies are __Host- prefixed and Secure; always HttpOnly, SameSite=Lax, Path=/, no Domain', () => {
  assert.deepEqual(cookieNames(true), { session: '__Host-fg_session', login: '__Host-fg_login' });
  assert.deepEqual(cookieNames(false), { session: 'fg_session', login: 'fg_login' });
  const secure = setCookie('__Host-fg_session', 'fgw_x', 60, true);
  assert.match(secure, /; Secure$/);
  for (const c of [secure, setCookie('fg_session', 'fgw_x', 60, false)]) {
    assert.match(c, /; Path=\/; HttpOnly; SameSite=Lax; Max-Age=60/);
    assert.doesNotMatch(c, /Domain/i);
  }
  assert.match(clearCookie('fg_login', false), /Max-Age=0/);
  assert.equal(readCookie('a=1; fg_session=fgw_abc; b=2', 'fg_session'), 'fgw_abc');
  assert.equal(readCookie('xfg_session=1', 'fg_session'), undefined);
});

test('a sealed value opens only unaltered, with its key, before it expires', () => {
  const key = randomBytes(32);
  const sealed = seal(key, { state: 's', nonce: 'n' }, Date.now() + 60_000);
  assert.equal(unseal(key, sealed)?.state, 's');
  assert.equal(unseal(randomBytes(32), sealed), undefined, 'another key');
  const [body, mac] = sealed.split('.');
  const altered = Buffer.from(JSON.stringify({ state: 'evil', nonce: 'n', exp: Date.now() + 60_000 })).toString('base64url');
  assert.equal(unseal(key, `${altered}.${mac}`), undefined, 'altered payload');
  assert.equal(unseal(key, `${body}.${mac}.x`), undefined);
  assert.equal(unseal(key, seal(key, { state: 's' }, Date.now() - 1)), undefined, 'expired');
  assert.equal(unseal(key, undefined), undefined);
});
