/** The login throttle: free failures, doubling delays, lockout per account and per address. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoginThrottle, peerAddress } from '../../src/auth/throttle.js';
import { MemoryAttemptCounter } from '../../src/stores/memory-attempt-counter.js';

const config = { freeFailures: 2, baseDelayMs: 100, maxDelayMs: 350, lockoutFailures: 5, lockoutSeconds: 60, peerLockoutFailures: 8 };

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const throttleWith = (cfg: typeof config, c = clock()): LoginThrottle => new LoginThrottle(cfg, new MemoryAttemptCounter(c.now));

test('failures past the free ones are delayed, doubling up to the cap', async () => {
  const throttle = throttleWith(config);
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) delays.push((await throttle.failure('alice', '10.0.0.1')).delayMs);
  assert.deepEqual(delays, [0, 0, 100, 200]);
  const capped = throttleWith({ ...config, lockoutFailures: 100, peerLockoutFailures: 100 });
  const more: number[] = [];
  for (let i = 0; i < 6; i++) more.push((await capped.failure('bob', '10.0.0.2')).delayMs);
  assert.deepEqual(more, [0, 0, 100, 200, 350, 350]);
});

test('a run of failures locks the account for the lockout time, whatever the address', async () => {
  const c = clock();
  const throttle = throttleWith(config, c);
  let verdict;
  for (let i = 0; i < 5; i++) verdict = await throttle.failure('alice', `10.0.0.${i}`);
  assert.equal(verdict!.lockedOut, 'account');
  assert.ok((await throttle.lockedFor('alice', '10.9.9.9')) > 59_000);
  assert.equal(await throttle.lockedFor('bob', '10.9.9.9'), 0, 'other accounts are not locked');
  c.advance(60_001);
  assert.equal(await throttle.lockedFor('alice', '10.9.9.9'), 0);
});

test('with the defaults an account cannot see more than 100 failures an hour', async () => {
  const c = clock();
  const throttle = throttleWith({ freeFailures: 3, baseDelayMs: 250, maxDelayMs: 4000, lockoutFailures: 10, lockoutSeconds: 360, peerLockoutFailures: 50 }, c);
  let failures = 0;
  for (let t = 0; t < 3_600_000; t += 1000) {
    const address = `10.${t % 250}.0.1`;
    if ((await throttle.lockedFor('alice', address)) <= 0) {
      await throttle.failure('alice', address);
      failures++;
    }
    c.advance(1000);
  }
  assert.ok(failures <= 100, `${failures} failures in an hour`);
});

test('one address guessing many accounts gets locked too', async () => {
  const throttle = throttleWith(config);
  let verdict;
  for (let i = 0; i < 8; i++) verdict = await throttle.failure(`user${i}`, '10.0.0.1');
  assert.equal(verdict!.lockedOut, 'address');
  assert.ok((await throttle.lockedFor('newuser', '10.0.0.1')) > 0);
  assert.equal(await throttle.lockedFor('newuser', '10.0.0.2'), 0);
});

test('a success clears the counters', async () => {
  const throttle = throttleWith(config);
  for (let i = 0; i < 4; i++) await throttle.failure('alice', '10.0.0.1');
  await throttle.success('alice', '10.0.0.1');
  assert.equal((await throttle.failure('alice', '10.0.0.1')).delayMs, 0);
});

test('failures are forgotten an hour after the last one', async () => {
  const c = clock();
  const throttle = throttleWith(config, c);
  for (let i = 0; i < 4; i++) await throttle.failure('alice', '10.0.0.1');
  c.advance(3_600_001);
  assert.equal((await throttle.failure('alice', '10.0.0.1')).delayMs, 0);
});

test('peer addresses drop the port, IPv6 included', () => {
  assert.equal(peerAddress('127.0.0.1:5000'), '127.0.0.1');
  assert.equal(peerAddress('::1:5000'), '::1');
});
