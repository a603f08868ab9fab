/**
 * The session store and revocation list ports, against both implementations (this process's
 * memory and a real, private Redis): what get() treats as ended (absolute end, idle timeout,
 * rotation grace), touch, a single winner among concurrent rotations, delete and deleteUser, the
 * live count, revocations that lapse with their tokens; and, for Redis, that an outage makes every
 * call fail at once with UNAVAILABLE, and that service resumes when Redis is back.
 *
 * Where the two implementations differ on purpose, the difference is a named `Quirks` field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { MemoryRevocationList } from '../../src/stores/memory-revocation-list.js';
import { MemorySessionStore } from '../../src/stores/memory-session-store.js';
import { openRedis, redisReady, type RedisConnection } from '../../src/stores/redis-client.js';
import { RedisRevocationList } from '../../src/stores/redis-revocation-list.js';
import { RedisSessionStore } from '../../src/stores/redis-session-store.js';
import type { RevocationList } from '../../src/stores/revocation-list.js';
import type { SessionRecord, SessionStore } from '../../src/stores/session-store.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

interface Stores {
  sessions: SessionStore;
  revocations: RevocationList;
}

/** Where the implementations differ on purpose. */
interface Quirks {
  /** A revocation is kept at least this long, whatever untilMs says (Redis keeps every entry >= 1 s). */
  minRevocationMs: number;
}

function record(t0: number, over: Partial<SessionRecord> = {}): SessionRecord {
  return { user: 'alice', roles: ['reader', 'writer'], createdAt: t0, expiresAt: t0 + 60_000, idleMs: 10_000, lastSeenAt: t0, ...over };
}

function contract(name: string, open: () => Promise<Stores>, quirks: Quirks): void {
  describe(`session store and revocation list (${name})`, () => {
    const stores = async (t: TestContext): Promise<Stores> => {
      const s = await open();
      t.after(async () => {
        await s.sessions.close();
        await s.revocations.close();
      });
      return s;
    };

    test('put then get returns the record as stored', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      const fresh = record(t0);
      const rotatedIn = record(t0, { user: 'bob', roles: [], predecessor: 'old-session-id' });
      await sessions.put('s1', fresh);
      await sessions.put('s2', rotatedIn);
      assert.deepEqual(await sessions.get('s1', t0 + 1), fresh);
      assert.deepEqual(await sessions.get('s2', t0 + 1), rotatedIn);
      assert.equal(await sessions.get('never-put', t0 + 1), undefined);
      // Ids are whole keys, not prefixes.
      assert.equal(await sessions.get('s', t0 + 1), undefined);
    });

    test('put with rotation fields keeps them, and a put over an existing id leaves none of the old fields', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      const rotated = record(t0, { rotatedAt: t0 + 100, graceUntil: t0 + 5_000, successor: 'next-id' });
      await sessions.put('r', rotated);
      const got = await sessions.get('r', t0 + 200);
      assert.deepEqual(got, rotated);
      const fresh = record(t0);
      await sessions.put('r', fresh);
      assert.deepEqual(await sessions.get('r', t0 + 200), fresh, 'the second put replaced the record whole');
    });

    test('get returns undefined from expiresAt on', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('e', record(t0, { expiresAt: t0 + 5_000, idleMs: 60_000 }));
      assert.ok(await sessions.get('e', t0 + 4_999), 'live 1 ms before expiresAt');
      assert.equal(await sessions.get('e', t0 + 5_000), undefined, 'ended at expiresAt');
      assert.equal(await sessions.get('e', t0 + 50_000), undefined, 'and after');
    });

    test('get returns undefined from lastSeenAt + idleMs on', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('i', record(t0, { lastSeenAt: t0 + 1_000, idleMs: 10_000, expiresAt: t0 + 60_000 }));
      assert.ok(await sessions.get('i', t0 + 10_999), 'live 1 ms before the idle deadline');
      assert.equal(await sessions.get('i', t0 + 11_000), undefined, 'ended at lastSeenAt + idleMs, long before expiresAt');
    });

    test('get returns undefined from graceUntil on, before the idle and absolute ends', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('g', record(t0, { idleMs: 10_000, expiresAt: t0 + 60_000 }));
      assert.equal(await sessions.markRotated('g', t0 + 1_000, t0 + 3_000, 'g-next'), true);
      assert.ok(await sessions.get('g', t0 + 2_999), 'live during the grace');
      assert.equal(await sessions.get('g', t0 + 3_000), undefined, 'ended at graceUntil');
    });

    test('touch pushes the idle deadline out, but never past expiresAt or graceUntil', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('t', record(t0, { idleMs: 10_000, expiresAt: t0 + 30_000 }));
      await sessions.touch('t', t0 + 8_000);
      const touched = await sessions.get('t', t0 + 15_000);
      assert.ok(touched, 'live past the original idle deadline (t0 + 10 s)');
      assert.equal(touched.lastSeenAt, t0 + 8_000);
      assert.ok(await sessions.get('t', t0 + 17_999));
      assert.equal(await sessions.get('t', t0 + 18_000), undefined, 'ended at the new idle deadline');

      await sessions.put('t-end', record(t0, { idleMs: 20_000, expiresAt: t0 + 30_000 }));
      await sessions.touch('t-end', t0 + 15_000);
      assert.ok(await sessions.get('t-end', t0 + 29_999));
      assert.equal(await sessions.get('t-end', t0 + 30_000), undefined, 'a touch does not extend the absolute end');

      await sessions.put('t-grace', record(t0, { idleMs: 10_000, expiresAt: t0 + 30_000 }));
      assert.equal(await sessions.markRotated('t-grace', t0 + 1_000, t0 + 6_000, 't-grace-next'), true);
      await sessions.touch('t-grace', t0 + 5_000);
      assert.ok(await sessions.get('t-grace', t0 + 5_999));
      assert.equal(await sessions.get('t-grace', t0 + 6_000), undefined, 'a touch does not extend the grace');

      await sessions.touch('never-put', t0 + 1_000);
      assert.equal(await sessions.get('never-put', t0 + 1_000), undefined, 'touching a missing session does not create one');
    });

    test('of 20 concurrent markRotated calls exactly one wins, and its graceUntil and successor are recorded', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('m', record(t0, { idleMs: 30_000, expiresAt: t0 + 60_000 }));
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sessions.markRotated('m', t0 + 1_000 + i, t0 + 8_000 + i, `m-next-${i}`)));
      assert.equal(results.filter((won) => won).length, 1, `winners: ${JSON.stringify(results)}`);
      const w = results.indexOf(true);
      const got = await sessions.get('m', t0 + 2_000);
      assert.ok(got);
      assert.equal(got.rotatedAt, t0 + 1_000 + w);
      assert.equal(got.graceUntil, t0 + 8_000 + w);
      assert.equal(got.successor, `m-next-${w}`);
      assert.equal(got.user, 'alice', 'the rest of the record is unchanged');
      assert.equal(await sessions.markRotated('m', t0 + 3_000, t0 + 9_000, 'm-late'), false, 'a later call loses too');
      assert.equal((await sessions.get('m', t0 + 3_000))?.successor, `m-next-${w}`, 'and does not overwrite the winner');
      assert.equal(await sessions.markRotated('never-put', t0, t0 + 5_000, 'x'), false, 'a missing session cannot be rotated');
    });

    test('delete returns true, then false', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('d', record(t0));
      await sessions.put('d-other', record(t0));
      assert.equal(await sessions.delete('d'), true);
      assert.equal(await sessions.delete('d'), false);
      assert.equal(await sessions.get('d', t0 + 1), undefined);
      assert.ok(await sessions.get('d-other', t0 + 1), 'other sessions of the user are untouched');
      assert.equal(await sessions.delete('never-put'), false);
    });

    test("deleteUser ends only that user's sessions and returns how many it ended", async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('a1', record(t0, { user: 'alice' }));
      await sessions.put('a2', record(t0, { user: 'alice', predecessor: 'a1' }));
      await sessions.put('a3', record(t0, { user: 'alice' }));
      await sessions.put('b1', record(t0, { user: 'bob' }));
      await sessions.put('alice2', record(t0, { user: 'alice2' }));
      assert.equal(await sessions.delete('a3'), true);
      assert.equal(await sessions.deleteUser('alice'), 2, 'counts the sessions it ended, not the ones already gone');
      for (const id of ['a1', 'a2', 'a3']) assert.equal(await sessions.get(id, t0 + 1), undefined, id);
      assert.ok(await sessions.get('b1', t0 + 1), "bob's session lives");
      assert.ok(await sessions.get('alice2', t0 + 1), "a user whose name starts with 'alice' is someone else");
      assert.equal(await sessions.deleteUser('alice'), 0);
      assert.equal(await sessions.deleteUser('carol'), 0);
      assert.equal(await sessions.deleteUser('bob'), 1);
      assert.equal(await sessions.get('b1', t0 + 1), undefined);
    });

    test('deleteUser after a shorter-lived session of the user ended still ends the longer one, and counts only live sessions', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('long', record(t0, { expiresAt: t0 + 60_000, idleMs: 60_000 }));
      await sessions.put('short', record(t0, { expiresAt: t0 + 300, idleMs: 60_000 }));
      await sleep(450);
      const now = Date.now();
      assert.ok(await sessions.get('long', now), 'the long session is live');
      assert.equal(await sessions.deleteUser('alice'), 1, 'only the live session');
      assert.equal(await sessions.get('long', now), undefined);
    });

    test('touch and markRotated on a session that has already ended (wall clock)', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      await sessions.put('gone-t', record(t0, { idleMs: 200 }));
      await sessions.put('gone-m', record(t0, { idleMs: 200 }));
      await sleep(300);
      const now = Date.now();
      await sessions.touch('gone-t', now);
      const revived = await sessions.get('gone-t', now);
      assert.equal(revived, undefined, 'an ended session stays ended');
      assert.equal(await sessions.markRotated('gone-m', now, now + 5_000, 'gone-m-next'), false, 'and cannot be rotated');
    });

    test('count is the number of live sessions', async (t) => {
      const { sessions } = await stores(t);
      const t0 = Date.now();
      assert.equal(await sessions.count(), 0);
      await sessions.put('c1', record(t0, { user: 'alice' }));
      await sessions.put('c2', record(t0, { user: 'alice' }));
      await sessions.put('c3', record(t0, { user: 'bob' }));
      assert.equal(await sessions.count(), 3);
      await sessions.put('c-ended', record(t0 - 120_000, { user: 'zed' }));
      assert.equal(await sessions.count(), 3, 'a session that has already ended is not counted');
      await sessions.delete('c1');
      assert.equal(await sessions.count(), 2);
      await sessions.deleteUser('bob');
      assert.equal(await sessions.count(), 1);
    });

    test('isRevoked is false before revoke and true after, for that jti only', async (t) => {
      const { revocations } = await stores(t);
      assert.equal(await revocations.isRevoked('jti-1'), false);
      await revocations.revoke('jti-1', Date.now() + 60_000);
      assert.equal(await revocations.isRevoked('jti-1'), true);
      assert.equal(await revocations.isRevoked('jti-2'), false);
      assert.equal(await revocations.isRevoked('jti'), false);
    });

    test('a revocation lapses once untilMs has passed', async (t) => {
      const { revocations } = await stores(t);
      const until = Date.now() + 1_500;
      await revocations.revoke('jti-lapse', until);
      assert.equal(await revocations.isRevoked('jti-lapse'), true);
      await sleep(until - 400 - Date.now());
      assert.equal(await revocations.isRevoked('jti-lapse'), true, 'still revoked shortly before untilMs');
      await sleep(until + 150 - Date.now());
      assert.equal(await revocations.isRevoked('jti-lapse'), false, 'no longer revoked after untilMs');
    });

    test(`revoking with an untilMs already past: ${quirks.minRevocationMs > 0 ? `kept ${quirks.minRevocationMs} ms anyway` : 'not revoked'}`, async (t) => {
      const { revocations } = await stores(t);
      await revocations.revoke('jti-old', Date.now() - 10_000);
      assert.equal(await revocations.isRevoked('jti-old'), quirks.minRevocationMs > 0);
    });
  });
}

let redis: RedisServer;
let client: RedisConnection;
before(async () => {
  redis = await startRedis();
  client = openRedis(redis.url);
  await redisReady(client);
});
after(async () => {
  client?.disconnect();
  await redis?.stop();
});

contract('memory', async () => ({ sessions: new MemorySessionStore(), revocations: new MemoryRevocationList() }), {
  minRevocationMs: 0,
});

contract(
  'Redis',
  async () => {
    await client.flushall();
    return { sessions: new RedisSessionStore(client), revocations: new RedisRevocationList(client) };
  },
  {
    minRevocationMs: 1_000,
  },
);

describe('Redis stores while Redis is down', () => {
  test('every call rejects at once with UNAVAILABLE, and calls succeed again once Redis is back', async () => {
    await client.flushall();
    const sessions = new RedisSessionStore(client);
    const revocations = new RedisRevocationList(client);
    const t0 = Date.now();
    await sessions.put('before', record(t0));
    await revocations.revoke('jti-before', t0 + 60_000);

    await redis.stop();
    const calls: [string, () => Promise<unknown>][] = [
      ['put', () => sessions.put('during', record(t0))],
      ['get', () => sessions.get('before', t0 + 1)],
      ['touch', () => sessions.touch('before', t0 + 1)],
      ['markRotated', () => sessions.markRotated('before', t0 + 1, t0 + 5_000, 'next')],
      ['delete', () => sessions.delete('before')],
      ['deleteUser', () => sessions.deleteUser('alice')],
      ['count', () => sessions.count()],
      ['revoke', () => revocations.revoke('jti-during', t0 + 60_000)],
      ['isRevoked', () => revocations.isRevoked('jti-before')],
    ];
    for (const [name, call] of calls) {
      const started = Date.now();
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof FlightgateError, `${name}: ${String(err)}`);
        assert.equal(err.status, Status.UNAVAILABLE, `${name}: ${err.statusName} ${err.message}`);
        assert.equal(err.statusName, 'UNAVAILABLE');
        assert.match(err.message, /\(Redis\) is unavailable/);
        return true;
      });
      const took = Date.now() - started;
      // Well under the client's 2 s command timeout: nothing waits for Redis to come back.
      assert.ok(took < 1_000, `${name} took ${took} ms to fail`);
    }

    await redis.start();
    await redisReady(client, 10_000);
    const t1 = Date.now();
    await sessions.put('after', record(t1));
    assert.deepEqual(await sessions.get('after', t1 + 1), record(t1));
    assert.equal(await revocations.isRevoked('jti-after'), false);
    await revocations.revoke('jti-after', t1 + 60_000);
    assert.equal(await revocations.isRevoked('jti-after'), true);
  });
});
