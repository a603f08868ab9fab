/**
 * The registry contract, run against the embedded SQLite file and a real PostgreSQL server:
 * the same behaviour from one SQL layer, and UNAVAILABLE (never a wrong answer) while
 * PostgreSQL is down.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pgDriver from 'pg';
import { after, before, describe, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import type { Registry } from '../../src/stores/registry.js';
import { openRegistry } from '../../src/stores/sql/open.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';

const status = (name: string) => (e: unknown) => e instanceof FlightgateError && e.statusName === name;

/** Runs SQL on the registry's database directly, as someone editing it by hand would. */
type RawSql = (sql: string) => Promise<void>;

function contract(open: () => Promise<Registry>, raw: () => RawSql): void {
  let registry: Registry;
  before(async () => {
    registry = await open();
  });
  after(async () => {
    await registry.close();
  });

  test('users, roles, grants and membership', async () => {
    await registry.roles.create('analysts');
    await registry.roles.grant('analysts', 'sales_*', ['read', 'list']);
    await registry.roles.grant('analysts', 'sales_*', ['read']);
    await registry.users.add({ name: 'alice', passwordHash: '$argon2id$fake', roles: ['analysts'] });
    const alice = await registry.users.get('alice');
    assert.equal(alice?.name, 'alice');
    assert.equal(alice?.disabled, false);
    assert.deepEqual(alice?.roles, ['analysts']);
    assert.equal(await registry.users.count(), 1);
    assert.deepEqual(
      (await registry.roles.grants()).map((g) => `${g.role}:${g.pattern}:${g.action}`),
      ['analysts:sales_*:list', 'analysts:sales_*:read'],
    );
    const [role] = await registry.roles.list();
    assert.deepEqual(role?.members, ['alice']);
    assert.equal(await registry.roles.revoke('analysts', 'sales_*', ['list']), 1);
    assert.equal((await registry.roles.grants()).length, 1);
  });

  test('duplicates are ALREADY_EXISTS and missing names NOT_FOUND', async () => {
    await assert.rejects(registry.users.add({ name: 'alice', passwordHash: 'x' }), status('ALREADY_EXISTS'));
    await assert.rejects(registry.roles.create('analysts'), status('ALREADY_EXISTS'));
    await assert.rejects(registry.users.add({ name: 'bob', passwordHash: 'x', roles: ['nope'] }), status('NOT_FOUND'));
    assert.equal(await registry.users.get('bob'), undefined, 'a failed add leaves nothing behind');
    await assert.rejects(registry.users.setDisabled('nobody', true), status('NOT_FOUND'));
    await assert.rejects(registry.roles.assign('alice', 'nope'), status('NOT_FOUND'));
    await assert.rejects(registry.users.delete('nobody'), status('NOT_FOUND'));
  });

  test('disable, password change and revocation move sessions-not-before forward', async () => {
    const before = (await registry.users.get('alice'))!.sessionsNotBefore;
    await new Promise((r) => setTimeout(r, 5));
    await registry.users.setDisabled('alice', true);
    const disabled = (await registry.users.get('alice'))!;
    assert.equal(disabled.disabled, true);
    assert.ok(disabled.sessionsNotBefore > before);
    await registry.users.setDisabled('alice', false);
    await new Promise((r) => setTimeout(r, 5));
    await registry.users.setPassword('alice', '$argon2id$other');
    const changed = (await registry.users.get('alice'))!;
    assert.equal(changed.passwordHash, '$argon2id$other');
    assert.ok(changed.sessionsNotBefore > disabled.sessionsNotBefore);
    await registry.users.revokeSessions(undefined, changed.sessionsNotBefore + 1000);
    assert.equal((await registry.users.get('alice'))!.sessionsNotBefore, changed.sessionsNotBefore + 1000);
  });

  test('a secret is created once; later callers get the first value', async () => {
    const first = await registry.secrets.get('k', () => 'one');
    const second = await registry.secrets.get('k', () => 'two');
    assert.equal(first, 'one');
    assert.equal(second, 'one');
  });

  test('user names are data, not SQL', async () => {
    const name = "x'); drop table fg_users; --";
    await registry.users.add({ name, passwordHash: 'h' });
    assert.equal((await registry.users.get(name))?.name, name);
    assert.ok((await registry.users.count()) >= 2);
  });

  test('OAuth clients: unique names, lookup by id or name, secret rotation, disable, delete', async () => {
    await registry.roles.create('jobs');
    await registry.clients.add({ clientId: 'etl-1', name: 'etl', secretHash: 'a'.repeat(64), roles: ['jobs'], scopes: ['flight'] });
    await assert.rejects(registry.clients.add({ clientId: 'etl-2', name: 'etl', secretHash: 'b'.repeat(64), roles: [], scopes: [] }), status('ALREADY_EXISTS'));
    await assert.rejects(registry.clients.add({ clientId: 'x-1', name: 'x', secretHash: 'b'.repeat(64), roles: ['nope'], scopes: [] }), status('NOT_FOUND'));
    assert.equal((await registry.clients.get('etl'))?.clientId, 'etl-1');
    assert.deepEqual((await registry.clients.get('etl-1'))?.roles, ['jobs']);
    assert.equal((await registry.clients.setSecret('etl', 'c'.repeat(64))).secretHash, 'c'.repeat(64));
    assert.equal((await registry.clients.get('etl-1'))?.secretHash, 'c'.repeat(64));
    assert.equal((await registry.clients.setDisabled('etl-1', true)).disabled, true);
    assert.equal((await registry.clients.delete('etl')).clientId, 'etl-1');
    assert.equal(await registry.clients.get('etl-1'), undefined);
    await assert.rejects(registry.clients.delete('etl'), status('NOT_FOUND'));
  });

  test('API keys by hash; revoke once; unknown names NOT_FOUND', async () => {
    await registry.roles.create('scripts');
    await registry.apiKeys.add({ name: 'k1', keyHash: 'd'.repeat(64), roles: ['scripts'], expiresAt: 4_000_000_000_000 });
    await assert.rejects(registry.apiKeys.add({ name: 'k1', keyHash: 'e'.repeat(64), roles: [] }), status('ALREADY_EXISTS'));
    const key = await registry.apiKeys.byHash('d'.repeat(64));
    assert.deepEqual([key?.name, key?.roles, key?.expiresAt, key?.revokedAt], ['k1', ['scripts'], 4_000_000_000_000, undefined]);
    await registry.apiKeys.revoke('k1', 123);
    await registry.apiKeys.revoke('k1', 456);
    assert.equal((await registry.apiKeys.byHash('d'.repeat(64)))?.revokedAt, 123, 'the first revocation time stays');
    await assert.rejects(registry.apiKeys.revoke('nope', 1), status('NOT_FOUND'));
  });

  test('signing keys: the first start adds one key only; rotation retires the others', async () => {
    const key = (kid: string, createdAt: number) => ({ kid, alg: 'ES256', publicJwk: '{}', encryptedPrivateKey: 'v1.x', createdAt });
    assert.equal(await registry.signingKeys.addFirst(key('k-a', 1)), true);
    assert.equal(await registry.signingKeys.addFirst(key('k-b', 2)), false, 'a second replica starting finds the key');
    await registry.signingKeys.rotate(key('k-c', 3), 999);
    assert.deepEqual((await registry.signingKeys.list()).map((k) => [k.kid, k.retireAt]), [['k-a', 999], ['k-c', undefined]]);
  });

  test('refresh tokens: rotation, grace, reuse revokes the family; concurrent uses have one winner', async () => {
    const family = { familyId: `f-${Math.random()}`, subject: 'alice', subjectKind: 'user' as const, scope: '', roles: ['r'], createdAt: 1000, expiresAt: 10_000_000 };
    await registry.refreshTokens.create(family, 'h1');
    assert.equal((await registry.refreshTokens.rotate('h1', 'h2', 2000, 0)).kind, 'rotated');
    assert.equal((await registry.refreshTokens.rotate('nope', 'hx', 2000, 0)).kind, 'unknown');
    // Within the grace the used token works again, and the successor already issued stays valid.
    const again = await registry.refreshTokens.rotate('h1', 'h2b', 2500, 1000);
    assert.equal(again.kind, 'rotated');
    assert.equal(again.kind === 'rotated' && again.grace, true);
    assert.equal((await registry.refreshTokens.rotate('h2', 'h3x', 2600, 1000)).kind, 'rotated', 'the legitimate client\'s token still works');
    assert.equal((await registry.refreshTokens.rotate('h2b', 'h3', 2700, 1000)).kind, 'rotated');
    // Only a few replays within the grace: then refused, without revoking anything.
    assert.equal((await registry.refreshTokens.rotate('h1', 'h2c', 2800, 1000)).kind, 'rotated');
    assert.equal((await registry.refreshTokens.rotate('h1', 'h2d', 2900, 1000)).kind, 'graceExhausted');
    // After the grace, presenting h2b again is reuse: the whole family goes, every branch.
    assert.equal((await registry.refreshTokens.rotate('h2b', 'h4', 9000, 1000)).kind, 'reused');
    assert.equal((await registry.refreshTokens.rotate('h3', 'h5', 9001, 1000)).kind, 'revoked');
    assert.equal((await registry.refreshTokens.rotate('h3x', 'h5b', 9002, 1000)).kind, 'revoked', 'the other branch too');

    const race = { ...family, familyId: `g-${Math.random()}` };
    await registry.refreshTokens.create(race, 'r1');
    const results = await Promise.all([registry.refreshTokens.rotate('r1', 'r2a', 5000, 0), registry.refreshTokens.rotate('r1', 'r2b', 5000, 0)]);
    assert.deepEqual(results.map((r) => r.kind).sort(), ['reused', 'rotated'], 'without a grace, exactly one of two simultaneous uses wins');
    const graced = { ...family, familyId: `c-${Math.random()}` };
    await registry.refreshTokens.create(graced, 'c1');
    const both = await Promise.all([registry.refreshTokens.rotate('c1', 'c2a', 5000, 1000), registry.refreshTokens.rotate('c1', 'c2b', 5000, 1000)]);
    assert.deepEqual(both.map((r) => r.kind), ['rotated', 'rotated'], 'within the grace both simultaneous uses succeed');
    for (const [h, next] of [['c2a', 'c3a'], ['c2b', 'c3b']] as const) assert.equal((await registry.refreshTokens.rotate(h, next, 5100, 1000)).kind, 'rotated', `${h} is live`);
    assert.equal((await registry.refreshTokens.revokeFamiliesOf({ subject: 'alice' }, 6000, 'test')) >= 0, true);
    const expired = { ...family, familyId: `e-${Math.random()}`, expiresAt: 1500 };
    await registry.refreshTokens.create(expired, 'x1');
    assert.equal((await registry.refreshTokens.rotate('x1', 'x2', 2000, 0)).kind, 'expired');
  });

  test('read policies: stored with the read grant, replaced by a new read grant, gone with it; a damaged row shows nothing', async () => {
    await registry.roles.create('tenants');
    const policy = { rows: "tenant = claim('tenant')", columns: { ssn: 'hide', email: 'hash' } };
    await registry.roles.grant('tenants', 'sales_*', ['read', 'list'], policy);
    const read = async () => (await registry.roles.grants()).filter((g) => g.role === 'tenants');
    assert.deepEqual((await read()).map((g) => [g.action, g.policy]), [['list', undefined], ['read', policy]]);
    await registry.roles.grant('tenants', 'sales_*', ['list']);
    assert.deepEqual((await read()).find((g) => g.action === 'read')?.policy, policy, 'a grant without read leaves the policy');
    await registry.roles.grant('tenants', 'sales_*', ['read'], { columns: { card: 'last4' } });
    assert.deepEqual((await read()).find((g) => g.action === 'read')?.policy, { columns: { card: 'last4' } }, 'granting read again replaces it');
    await assert.rejects(registry.roles.grant('tenants', 'x', ['list'], policy), status('INVALID_ARGUMENT'));
    await assert.rejects(registry.roles.grant('tenants', 'x', ['read'], { columns: { a: 'scramble' } }), status('INVALID_ARGUMENT'));
    await assert.rejects(registry.roles.grant('tenants', 'x', ['read'], { rows: '  ' }), status('INVALID_ARGUMENT'));
    // Someone edits the row by hand: it no longer reads as a policy, so it shows no rows at all.
    await raw()("UPDATE fg_read_policies SET columns = '{\"ssn\": 42' WHERE role_name = 'tenants'");
    assert.deepEqual((await read()).find((g) => g.action === 'read')?.policy, { rows: 'false' });
    await registry.roles.grant('tenants', 'sales_*', ['read']);
    assert.equal((await read()).find((g) => g.action === 'read')?.policy, undefined, 'read granted with no policy: the whole dataset');
    await registry.roles.grant('tenants', 'sales_*', ['read'], policy);
    assert.equal(await registry.roles.revoke('tenants', 'sales_*', ['read']), 1);
    await registry.roles.grant('tenants', 'sales_*', ['read']);
    assert.equal((await read()).find((g) => g.action === 'read')?.policy, undefined, 'revoking read dropped its policy');
    await registry.roles.grant('tenants', 'sales_*', ['read'], policy);
    await registry.roles.delete('tenants');
    await registry.roles.create('tenants');
    await registry.roles.grant('tenants', 'sales_*', ['read']);
    assert.equal((await read()).find((g) => g.action === 'read')?.policy, undefined, 'deleting the role dropped its policies');
    await registry.roles.delete('tenants');
  });

  test('deleting a role removes its grants and memberships', async () => {
    await registry.roles.delete('analysts');
    assert.deepEqual((await registry.users.get('alice'))?.roles, []);
    assert.equal((await registry.roles.grants()).length, 0);
    await registry.users.delete('alice');
    assert.equal(await registry.users.get('alice'), undefined);
  });
}

describe('registry on SQLite', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));
  contract(
    () => openRegistry({ dataDir: dir }),
    () => async (sql) => {
      const db = new Database(join(dir, 'flightgate.db'));
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
  );
});

describe('registry on PostgreSQL', () => {
  let pg: PostgresServer;
  let url: string;
  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
  });
  after(async () => {
    await pg?.stop();
  });
  contract(
    () => openRegistry({ databaseUrl: url, dataDir: tempDir() }),
    () => async (sql) => {
      const client = new pgDriver.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
  );

  test('PostgreSQL down: UNAVAILABLE, and service resumes by itself when it is back', async () => {
    const registry = await openRegistry({ databaseUrl: url, dataDir: tempDir(), onBackendError: () => undefined });
    try {
      await registry.users.count();
      await pg.stop();
      await assert.rejects(registry.users.get('alice'), status('UNAVAILABLE'));
      await assert.rejects(registry.users.count(), status('UNAVAILABLE'));
      await pg.start();
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await registry.users.count().then(() => true, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ok, 'the registry answers again after PostgreSQL restarted');
    } finally {
      await registry.close();
    }
  });
});
