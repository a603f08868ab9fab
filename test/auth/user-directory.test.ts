/**
 * UserDirectory, the short-lived cache over the registry on the per-call path, against in-memory
 * fakes of the two narrow ports it reads (UserStore.get, GrantSource.grants) that count calls.
 * Time is the explicit `now` argument, never the clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UserDirectory } from '../../src/auth/user-directory.js';
import { Policy } from '../../src/authz/policy.js';
import { unavailable } from '../../src/core/errors.js';
import type { Grant, GrantSource } from '../../src/stores/role-store.js';
import type { UserRecord, UserStore } from '../../src/stores/user-store.js';

const CACHE_MS = 1000;
const T0 = 1_700_000_000_000;

const record = (name: string, roles: readonly string[] = ['reader']): UserRecord => ({
  name, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', disabled: false, roles, sessionsNotBefore: 0, createdAt: T0 - 1,
});

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const unused = (what: string) => (): never => {
  throw new Error(`UserDirectory must not call UserStore.${what}`);
};

/** Only `get` is meant to be used; it counts calls per name and can fail or be held. */
class FakeUserStore implements UserStore {
  readonly users = new Map<string, UserRecord>();
  readonly calls = new Map<string, number>();
  /** The next `get` rejects with this (once). */
  failNext: unknown;
  /** While set, `get` waits for it before answering. */
  gate: Deferred<void> | undefined;

  constructor(...records: UserRecord[]) {
    for (const r of records) this.users.set(r.name, r);
  }

  callsFor(name: string): number {
    return this.calls.get(name) ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const c of this.calls.values()) n += c;
    return n;
  }

  async get(name: string): Promise<UserRecord | undefined> {
    this.calls.set(name, this.callsFor(name) + 1);
    const fail = this.failNext;
    this.failNext = undefined;
    if (this.gate) await this.gate.promise;
    if (fail !== undefined) throw fail;
    return this.users.get(name);
  }

  list = unused('list');
  count = unused('count');
  add = unused('add');
  setPassword = unused('setPassword');
  setDisabled = unused('setDisabled');
  revokeSessions = unused('revokeSessions');
  delete = unused('delete');
}

class FakeGrantSource implements GrantSource {
  calls = 0;
  failNext: unknown;
  gate: Deferred<void> | undefined;
  constructor(public list: Grant[]) {}
  async grants(): Promise<Grant[]> {
    this.calls++;
    const fail = this.failNext;
    this.failNext = undefined;
    if (this.gate) await this.gate.promise;
    if (fail !== undefined) throw fail;
    return [...this.list];
  }
}

function setup(): { users: FakeUserStore; grants: FakeGrantSource; dir: UserDirectory } {
  const users = new FakeUserStore(record('alice', ['analyst']), record('bob'), record('carol'));
  const grants = new FakeGrantSource([
    { role: 'analyst', pattern: 'sales.*', action: 'read' },
    { role: 'admin', pattern: '*', action: 'admin' },
  ]);
  return { users, grants, dir: new UserDirectory(users, grants, CACHE_MS) };
}

describe('UserDirectory.user', () => {
  test('answers what the store holds, including undefined for an unknown user', async () => {
    const { users, dir } = setup();
    assert.deepEqual(await dir.user('alice', T0), record('alice', ['analyst']));
    assert.equal(await dir.user('nobody', T0), undefined);
    assert.equal(users.callsFor('alice'), 1);
    assert.equal(users.callsFor('nobody'), 1);
  });

  test('a second lookup within cacheMs does not call the store again', async () => {
    const { users, dir } = setup();
    const first = await dir.user('alice', T0);
    const again = await dir.user('alice', T0 + 1);
    const last = await dir.user('alice', T0 + CACHE_MS - 1);
    assert.equal(users.callsFor('alice'), 1);
    assert.equal(again, first, 'the cached record itself');
    assert.equal(last, first);
  });

  test('an unknown user (undefined) is cached the same way', async () => {
    const { users, dir } = setup();
    await dir.user('nobody', T0);
    await dir.user('nobody', T0 + CACHE_MS - 1);
    assert.equal(users.callsFor('nobody'), 1);
  });

  test('after cacheMs the store is read again, and the new answer is served', async () => {
    const { users, dir } = setup();
    await dir.user('alice', T0);
    users.users.set('alice', { ...record('alice', ['analyst']), disabled: true });
    assert.equal((await dir.user('alice', T0 + CACHE_MS - 1))?.disabled, false, 'still the cached answer');
    assert.equal(users.callsFor('alice'), 1);
    assert.equal((await dir.user('alice', T0 + CACHE_MS))?.disabled, true, 'exactly cacheMs later it is read again');
    assert.equal(users.callsFor('alice'), 2);
    // The new entry is timed from the re-read, not from the first one.
    await dir.user('alice', T0 + 2 * CACHE_MS - 1);
    assert.equal(users.callsFor('alice'), 2);
    await dir.user('alice', T0 + 2 * CACHE_MS);
    assert.equal(users.callsFor('alice'), 3);
  });

  test('users are cached each on their own', async () => {
    const { users, dir } = setup();
    await dir.user('alice', T0);
    await dir.user('bob', T0 + 500);
    await dir.user('alice', T0 + CACHE_MS); // alice expired
    await dir.user('bob', T0 + CACHE_MS); // bob has not
    assert.equal(users.callsFor('alice'), 2);
    assert.equal(users.callsFor('bob'), 1);
  });

  test('a cacheMs of 0 caches nothing', async () => {
    const users = new FakeUserStore(record('alice'));
    const dir = new UserDirectory(users, new FakeGrantSource([]), 0);
    await dir.user('alice', T0);
    await dir.user('alice', T0);
    assert.equal(users.callsFor('alice'), 2);
  });

  test('concurrent lookups of one user share one store call', async () => {
    const { users, dir } = setup();
    users.gate = deferred<void>();
    const lookups = [dir.user('alice', T0), dir.user('alice', T0), dir.user('alice', T0 + 10)];
    const other = dir.user('bob', T0);
    assert.equal(users.callsFor('alice'), 1, 'one call while the first is in flight');
    assert.equal(users.callsFor('bob'), 1, 'another user has a call of its own');
    users.gate.resolve();
    const answers = await Promise.all(lookups);
    assert.deepEqual(answers.map((a) => a?.name), ['alice', 'alice', 'alice']);
    assert.equal(answers[0], answers[1]);
    assert.equal((await other)?.name, 'bob');
    assert.equal(users.callsFor('alice'), 1);
  });

  test('concurrent lookups share a failure too, and it is not cached', async () => {
    const { users, dir } = setup();
    users.gate = deferred<void>();
    users.failNext = unavailable('registry down');
    const a = dir.user('alice', T0);
    const b = dir.user('alice', T0);
    users.gate.resolve();
    users.gate = undefined;
    await assert.rejects(a, /registry down/);
    await assert.rejects(b, /registry down/);
    assert.equal(users.callsFor('alice'), 1);
    assert.equal((await dir.user('alice', T0 + 1))?.name, 'alice', 'the next lookup asks again and succeeds');
    assert.equal(users.callsFor('alice'), 2);
  });

  test('a store failure rejects the caller with that error and drops the whole cache', async () => {
    const { users, grants, dir } = setup();
    await dir.user('alice', T0);
    await dir.user('bob', T0);
    await dir.policy(T0);
    assert.equal(users.total, 2);
    assert.equal(grants.calls, 1);

    const failure = unavailable('the registry does not answer');
    users.failNext = failure;
    await assert.rejects(dir.user('carol', T0 + 10), (err) => err === failure);
    assert.equal(users.callsFor('carol'), 1);

    // alice and bob were cached and fresh, but the failure dropped them: the store is asked again.
    await dir.user('alice', T0 + 20);
    await dir.user('bob', T0 + 20);
    assert.equal(users.callsFor('alice'), 2);
    assert.equal(users.callsFor('bob'), 2);
    // So was the policy.
    await dir.policy(T0 + 20);
    assert.equal(grants.calls, 2);
    // The failed user is not cached as a failure: asked again, now successfully, then cached.
    assert.equal((await dir.user('carol', T0 + 20))?.name, 'carol');
    await dir.user('carol', T0 + 30);
    assert.equal(users.callsFor('carol'), 2);
  });

  test('a failed re-read of an expired user rejects rather than serving the stale record', async () => {
    const { users, dir } = setup();
    await dir.user('alice', T0);
    users.failNext = unavailable('registry down');
    await assert.rejects(dir.user('alice', T0 + CACHE_MS), /registry down/);
    assert.equal(users.callsFor('alice'), 2);
  });

  test('the cache is bounded: past 10,000 users it is emptied', async () => {
    const { users, dir } = setup();
    await dir.user('alice', T0);
    for (let i = 0; i < 10_001; i++) await dir.user(`u${i}`, T0);
    assert.equal(users.callsFor('alice'), 1, 'not yet cleared at 10,001 entries');
    await dir.user('u-one-more', T0);
    await dir.user('alice', T0);
    assert.equal(users.callsFor('alice'), 2, 'cleared once over 10,000');
  });
});

describe('UserDirectory.policy', () => {
  test('is built from the grants the source returns', async () => {
    const { grants, dir } = setup();
    const policy = await dir.policy(T0);
    assert.ok(policy instanceof Policy);
    assert.equal(grants.calls, 1);
    assert.equal(policy.allows(['analyst'], 'read', 'sales.q1'), true);
    assert.equal(policy.allows(['analyst'], 'list', 'sales.q1'), true, 'read implies list');
    assert.equal(policy.allows(['analyst'], 'write', 'sales.q1'), false);
    assert.equal(policy.allows(['analyst'], 'read', 'hr.salaries'), false);
    assert.equal(policy.allows(['reader'], 'read', 'sales.q1'), false, 'a role without grants');
    assert.equal(policy.allows(['admin'], 'write', 'hr.salaries'), true);
  });

  test('is cached for cacheMs, then rebuilt from the grants as they are then', async () => {
    const { grants, dir } = setup();
    const first = await dir.policy(T0);
    assert.equal(await dir.policy(T0 + CACHE_MS - 1), first, 'the same Policy within cacheMs');
    assert.equal(grants.calls, 1);
    grants.list = [{ role: 'analyst', pattern: 'hr.*', action: 'read' }];
    assert.equal((await dir.policy(T0 + CACHE_MS - 1)).allows(['analyst'], 'read', 'hr.x'), false, 'still the cached one');
    const second = await dir.policy(T0 + CACHE_MS);
    assert.equal(grants.calls, 2);
    assert.notEqual(second, first);
    assert.equal(second.allows(['analyst'], 'read', 'hr.x'), true);
    assert.equal(second.allows(['analyst'], 'read', 'sales.q1'), false);
  });

  test('concurrent calls share one grants() call', async () => {
    const { grants, dir } = setup();
    grants.gate = deferred<void>();
    const all = [dir.policy(T0), dir.policy(T0), dir.policy(T0 + 5)];
    assert.equal(grants.calls, 1);
    grants.gate.resolve();
    const [a, b, c] = await Promise.all(all);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.equal(grants.calls, 1);
  });

  test('a grants() failure rejects, drops the user cache too, and is not cached', async () => {
    const { users, grants, dir } = setup();
    await dir.user('alice', T0);
    const failure = unavailable('registry down');
    grants.failNext = failure;
    await assert.rejects(dir.policy(T0), (err) => err === failure);
    await dir.user('alice', T0 + 1);
    assert.equal(users.callsFor('alice'), 2, 'the cached user was dropped');
    assert.ok((await dir.policy(T0 + 1)).allows(['analyst'], 'read', 'sales.q1'));
    assert.equal(grants.calls, 2);
    await dir.policy(T0 + 2);
    assert.equal(grants.calls, 2, 'the successful rebuild is cached');
  });
});

describe('UserDirectory.forget and invalidateAll', () => {
  test('forget(name) drops just that user', async () => {
    const { users, dir } = setup();
    await dir.user('alice', T0);
    await dir.user('bob', T0);
    dir.forget('alice');
    await dir.user('alice', T0 + 1);
    await dir.user('bob', T0 + 1);
    assert.equal(users.callsFor('alice'), 2, 'alice is read again');
    assert.equal(users.callsFor('bob'), 1, 'bob is still cached');
    await dir.user('alice', T0 + 2);
    assert.equal(users.callsFor('alice'), 2, 'and alice is cached again');
    dir.forget('nobody'); // forgetting an unknown name is harmless
    await dir.user('bob', T0 + 3);
    assert.equal(users.callsFor('bob'), 1);
  });

  // Current behaviour, beyond what the method's comment says: forget also drops the policy.
  test('forget(name) also drops the cached policy', async () => {
    const { grants, dir } = setup();
    await dir.policy(T0);
    dir.forget('alice');
    await dir.policy(T0 + 1);
    assert.equal(grants.calls, 2);
  });

  test('a lookup in flight when its user is forgotten is not kept in the cache', async () => {
    const { users, dir } = setup();
    users.gate = deferred<void>();
    const inFlight = dir.user('alice', T0);
    dir.forget('alice');
    users.gate.resolve();
    users.gate = undefined;
    await inFlight;
    await dir.user('alice', T0 + 1);
    assert.equal(users.callsFor('alice'), 2);
  });

  test('invalidateAll drops every user and the policy', async () => {
    const { users, grants, dir } = setup();
    await dir.user('alice', T0);
    await dir.user('bob', T0);
    await dir.policy(T0);
    dir.invalidateAll();
    await dir.user('alice', T0 + 1);
    await dir.user('bob', T0 + 1);
    await dir.policy(T0 + 1);
    assert.equal(users.callsFor('alice'), 2);
    assert.equal(users.callsFor('bob'), 2);
    assert.equal(grants.calls, 2);
  });

  test('users is the store itself, for reads that must not be cached', async () => {
    const { users, dir } = setup();
    assert.equal(dir.users, users);
  });
});
