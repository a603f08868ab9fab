/** The login throttle: free failures, doubling delays, lockout per account and per address. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoginThrottle, peerAddress } from '../../src/auth/throttle.js';

const config = { freeFailures: 2, baseDelayMs: 100, maxDelayMs: 350, lockoutFailures: 5, lockoutSeconds: 60, peerLockoutFailures: 8 };

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('failures past the free ones are delayed, doubling up to the cap', () => {
  const c = clock();
  const throttle = new LoginThrottle(config, c.now);
  const delays = [1, 2, 3, 4].map(() => throttle.failure('alice', '10.0.0.1').delayMs);
  assert.deepEqual(delays, [0, 0, 100, 200]);
  const capped = new LoginThrottle({ ...config, lockoutFailures: 100 }, c.now);
  const more = Array.from({ length: 6 }, () => capped.failure('bob', '10.0.0.2').delayMs);
  assert.deepEqual(more, [0, 0, 100, 200, 350, 350]);
});

test('a run of failures locks the account for the lockout time, whatever the address', () => {
  const c = clock();
  const throttle = new LoginThrottle(config, c.now);
  let verdict;
  for (let i = 0; i < 5; i++) verdict = throttle.failure('alice', `10.0.0.${i}`);
  assert.equal(verdict!.lockedOut, 'account');
  assert.ok(throttle.lockedFor('alice', '10.9.9.9') > 59_000);
  assert.equal(throttle.lockedFor('bob', '10.9.9.9'), 0, 'other accounts are not locked');
  c.advance(60_001);
  assert.equal(throttle.lockedFor('alice', '10.9.9.9'), 0);
});

test('with the defaults an account cannot see more than 100 failures an hour', () => {
  const c = clock();
  const throttle = new LoginThrottle({ freeFailures: 3, baseDelayMs: 250, maxDelayMs: 4000, lockoutFailures: 10, lockoutSeconds: 360, peerLockoutFailures: 50 }, c.now);
  let failures = 0;
  for (let t = 0; t < 3_600_000; t += 1000) {
    if (throttle.lockedFor('alice', `10.${t % 250}.0.1`) === 0) {
      throttle.failure('alice', `10.${t % 250}.0.1`);
      failures++;
    }
    c.advance(1000);
  }
  assert.ok(failures <= 100, `${failures} failures in an hour`);
});

test('one address guessing many accounts gets locked too', () => {
  const c = clock();
  const throttle = new LoginThrottle(config, c.now);
  let verdict;
  for (let i = 0; i < 8; i++) verdict = throttle.failure(`user${i}`, '10.0.0.1');
  assert.equal(verdict!.lockedOut, 'address');
  assert.ok(throttle.lockedFor('newuser', '10.0.0.1') > 0);
  assert.equal(throttle.lockedFor('newuser', '10.0.0.2'), 0);
});

test('a success clears the counters', () => {
  const c = clock();
  const throttle = new LoginThrottle(config, c.now);
  for (let i = 0; i < 4; i++) throttle.failure('alice', '10.0.0.1');
  throttle.success('alice', '10.0.0.1');
  assert.equal(throttle.failure('alice', '10.0.0.1').delayMs, 0);
});

test('peer addresses drop the port, IPv6 included', () => {
  assert.equal(peerAddress('127.0.0.1:5000'), '127.0.0.1');
  assert.equal(peerAddress('::1:5000'), '::1');
});
