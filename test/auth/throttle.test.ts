/**
 * The login throttle, against both attempt counters (this process's memory and a real Redis):
 * reservations before verification, delays, lockouts per account at an address, per address and
 * per account as a whole, and what a success does and does not reset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { FlightgateError } from '../../src/core/errors.js';
import { LoginThrottle, peerAddress, type LoginAttempt } from '../../src/auth/throttle.js';
import type { ThrottleConfig } from '../../src/config/schema.js';
import type { AttemptCounter } from '../../src/stores/attempt-counter.js';
import { MemoryAttemptCounter } from '../../src/stores/memory-attempt-counter.js';
import { RedisAttemptCounter } from '../../src/stores/redis-attempt-counter.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const config: ThrottleConfig = {
  freeFailures: 2, baseDelayMs: 100, maxDelayMs: 350, lockoutFailures: 5, lockoutSeconds: 60, peerLockoutFailures: 8,
  accountFailuresPerHour: 100, knownAddressDays: 30, maxInFlightPerAccount: 4, maxInFlightPerAddress: 32, maxLoginsInFlight: 64,
};
const DEFAULTS: ThrottleConfig = { ...config, freeFailures: 3, baseDelayMs: 250, maxDelayMs: 4000, lockoutFailures: 10, lockoutSeconds: 360, peerLockoutFailures: 50 };

function clock(): { now: () => number; advance: (ms: number) => void } {
  // Real time as the start: Redis expires keys by the wall clock.
  let t = Date.now();
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Whether the throttle refuses an attempt before verifying it, and with what message. */
async function refusal(throttle: LoginThrottle, user: string, address: string): Promise<string | undefined> {
  try {
    const a = await throttle.begin(user, address);
    await a.abandon();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof FlightgateError, String(err));
    return err.message;
  }
}

async function fail(throttle: LoginThrottle, user: string, address: string) {
  const attempt = await throttle.begin(user, address);
  const verdict = await attempt.failed();
  await attempt.finished();
  return verdict;
}

async function succeed(throttle: LoginThrottle, user: string, address: string): Promise<void> {
  await (await throttle.begin(user, address)).succeeded();
}

function suite(name: string, counterFor: (now: () => number) => Promise<AttemptCounter>): void {
  describe(`login throttle (${name})`, () => {
    const make = async (cfg: ThrottleConfig, c = clock()) => new LoginThrottle(cfg, await counterFor(c.now), c.now);

    test('failures past the free ones are delayed, doubling up to the cap', async () => {
      const throttle = await make(config);
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) delays.push((await fail(throttle, 'alice', '10.0.0.1')).delayMs);
      assert.deepEqual(delays, [0, 0, 100, 200]);
      const capped = await make({ ...config, lockoutFailures: 100, peerLockoutFailures: 100 });
      const more: number[] = [];
      for (let i = 0; i < 6; i++) more.push((await fail(capped, 'bob', '10.0.0.2')).delayMs);
      assert.deepEqual(more, [0, 0, 100, 200, 350, 350]);
    });

    test('a run of failures locks the account at that address only: the owner still logs in from another', async () => {
      const c = clock();
      const throttle = await make(config, c);
      let verdict;
      for (let i = 0; i < 5; i++) verdict = await fail(throttle, 'alice', '10.0.0.1');
      assert.equal(verdict!.lockedOut, 'account');
      assert.match((await refusal(throttle, 'alice', '10.0.0.1')) ?? '', /too many failed logins.*try again in (59|60) s/);
      assert.equal(await refusal(throttle, 'alice', '10.0.0.2'), undefined, 'the owner at another address is not locked out');
      assert.equal(await refusal(throttle, 'bob', '10.0.0.1'), undefined, 'other accounts at that address are not locked');
      c.advance(60_001);
      assert.equal(await refusal(throttle, 'alice', '10.0.0.1'), undefined);
    });

    test('with the defaults an account sees at most 100 failures an hour, however many addresses guess', async () => {
      const c = clock();
      const throttle = await make(DEFAULTS, c);
      let failures = 0;
      for (let t = 0; t < 3_600_000; t += 1000) {
        const address = `10.${t % 250}.0.1`;
        if ((await refusal(throttle, 'alice', address)) === undefined) {
          await fail(throttle, 'alice', address);
          failures++;
        }
        c.advance(1000);
      }
      assert.ok(failures <= 100, `${failures} failures in an hour`);
      assert.ok(failures >= 50, `the bound is not far below the setting (${failures})`);
    });

    test('an address the owner logged in from stays open when the account is locked for new addresses', async () => {
      const throttle = await make({ ...config, accountFailuresPerHour: 6, lockoutFailures: 5 });
      await succeed(throttle, 'alice', '10.1.1.1');
      let last;
      for (let i = 0; i < 6; i++) last = await fail(throttle, 'alice', `10.0.0.${i}`);
      assert.equal(last!.lockedOut, 'account-wide');
      assert.match((await refusal(throttle, 'alice', '10.9.9.9')) ?? '', /too many failed logins/, 'a new address is refused');
      assert.equal(await refusal(throttle, 'alice', '10.1.1.1'), undefined, 'the known address is not');
    });

    test('one address guessing many accounts gets locked; its own successful logins do not reset that', async () => {
      const throttle = await make(config);
      let verdict;
      for (let i = 0; i < 8; i++) {
        verdict = await fail(throttle, `user${i}`, '10.0.0.1');
        // The attacker logs in to its own account every other guess.
        if (i % 2 === 1 && i < 7) await succeed(throttle, 'mallory', '10.0.0.1');
      }
      assert.equal(verdict!.lockedOut, 'address');
      assert.ok((await refusal(throttle, 'newuser', '10.0.0.1')) !== undefined);
      assert.equal(await refusal(throttle, 'newuser', '10.0.0.2'), undefined);
    });

    test('a success clears the failures of that account at that address', async () => {
      const throttle = await make({ ...config, peerLockoutFailures: 100 });
      for (let i = 0; i < 4; i++) await fail(throttle, 'alice', '10.0.0.1');
      await succeed(throttle, 'alice', '10.0.0.1');
      for (let i = 0; i < 4; i++) assert.equal((await fail(throttle, 'alice', '10.0.0.1')).lockedOut, undefined);
      assert.equal(await refusal(throttle, 'alice', '10.0.0.1'), undefined, 'eight failures, but not in a row');
    });

    test('failures are forgotten an hour after the last one', async () => {
      const c = clock();
      const throttle = await make(config, c);
      for (let i = 0; i < 4; i++) await fail(throttle, 'alice', '10.0.0.1');
      c.advance(3_600_001);
      assert.equal((await fail(throttle, 'alice', '10.0.0.1')).delayMs, 0);
    });

    test('a burst of 200 concurrent attempts reserves at most the in-flight bound; the rest are refused before any hashing', async () => {
      const throttle = await make({ ...config, lockoutFailures: 10, peerLockoutFailures: 100, maxLoginsInFlight: 1000 });
      const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => throttle.begin('alice', '10.0.0.1')));
      const reserved = outcomes.filter((o): o is PromiseFulfilledResult<LoginAttempt> => o.status === 'fulfilled').map((o) => o.value);
      assert.equal(reserved.length, 4, 'maxInFlightPerAccount attempts are let through');
      for (const o of outcomes) if (o.status === 'rejected') assert.match((o.reason as Error).message, /in progress/);
      for (const a of reserved) await a.failed().then(() => a.finished());
      // Bursts after failures: failures + in flight never pass the lockout.
      let verified = reserved.length;
      for (let round = 0; round < 5; round++) {
        const wave = await Promise.allSettled(Array.from({ length: 50 }, () => throttle.begin('alice', '10.0.0.1')));
        const got = wave.filter((o): o is PromiseFulfilledResult<LoginAttempt> => o.status === 'fulfilled').map((o) => o.value);
        verified += got.length;
        for (const a of got) await a.failed().then(() => a.finished());
      }
      assert.equal(verified, 10, 'exactly lockoutFailures guesses were verified');
      assert.match((await refusal(throttle, 'alice', '10.0.0.1')) ?? '', /too many failed logins/, 'then the account is locked at that address');
    });

    test('the process-wide bound refuses with RESOURCE_EXHAUSTED naming its setting', async () => {
      const throttle = await make({ ...config, maxLoginsInFlight: 3 });
      const held = await Promise.all([0, 1, 2].map((i) => throttle.begin(`u${i}`, `10.0.0.${i}`)));
      await assert.rejects(throttle.begin('u9', '10.0.0.9'), (e: FlightgateError) => e.statusName === 'RESOURCE_EXHAUSTED' && /auth\.throttle\.maxLoginsInFlight/.test(e.message));
      await held[0]!.abandon();
      await (await throttle.begin('u9', '10.0.0.9')).abandon();
      for (const a of held.slice(1)) await a.succeeded();
    });
  });
}

let redis: RedisServer;
const clients: Redis[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

suite('memory', async () => new MemoryAttemptCounter());
suite('Redis', async () => {
  const client = new Redis(redis.url);
  clients.push(client);
  await client.flushall();
  return new RedisAttemptCounter(client);
});

test('peer addresses drop the port, IPv6 included', () => {
  assert.equal(peerAddress('127.0.0.1:5000'), '127.0.0.1');
  assert.equal(peerAddress('::1:5000'), '::1');
});
