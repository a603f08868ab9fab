/**
 * The registry contract, run against the embedded SQLite file and a real PostgreSQL server:
 * the same behaviour from one SQL layer, and UNAVAILABLE (never a wrong answer) while
 * PostgreSQL is down.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import type { Registry } from '../../src/stores/registry.js';
import { openRegistry } from '../../src/stores/sql/open.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';

const status = (name: string) => (e: unknown) => e instanceof FlightgateError && e.statusName === name;

function contract(open: () => Promise<Registry>): void {
  let registry: Registry;
  before(async () => {
    registry = await open();
  });
  after(async () => {
    await registry.close();
  });

  test('users, roles, grants and membership', async () => {
    await registry.createRole('analysts');
    await registry.grant('analysts', 'sales_*', ['read', 'list']);
    await registry.grant('analysts', 'sales_*', ['read']);
    await registry.addUser({ name: 'alice', passwordHash: '$argon2id$fake', roles: ['analysts'] });
    const alice = await registry.getUser('alice');
    assert.equal(alice?.name, 'alice');
    assert.equal(alice?.disabled, false);
    assert.deepEqual(alice?.roles, ['analysts']);
    assert.equal(await registry.countUsers(), 1);
    assert.deepEqual(
      (await registry.grants()).map((g) => `${g.role}:${g.pattern}:${g.action}`),
      ['analysts:sales_*:list', 'analysts:sales_*:read'],
    );
    const [role] = await registry.listRoles();
    assert.deepEqual(role?.members, ['alice']);
    assert.equal(await registry.revoke('analysts', 'sales_*', ['list']), 1);
    assert.equal((await registry.grants()).length, 1);
  });

  test('duplicates are ALREADY_EXISTS and missing names NOT_FOUND', async () => {
    await assert.rejects(registry.addUser({ name: 'alice', passwordHash: 'x' }), status('ALREADY_EXISTS'));
    await assert.rejects(registry.createRole('analysts'), status('ALREADY_EXISTS'));
    await assert.rejects(registry.addUser({ name: 'bob', passwordHash: 'x', roles: ['nope'] }), status('NOT_FOUND'));
    assert.equal(await registry.getUser('bob'), undefined, 'a failed add leaves nothing behind');
    await assert.rejects(registry.setDisabled('nobody', true), status('NOT_FOUND'));
    await assert.rejects(registry.assignRole('alice', 'nope'), status('NOT_FOUND'));
    await assert.rejects(registry.deleteUser('nobody'), status('NOT_FOUND'));
  });

  test('disable, password change and revocation move sessions-not-before forward', async () => {
    const before = (await registry.getUser('alice'))!.sessionsNotBefore;
    await new Promise((r) => setTimeout(r, 5));
    await registry.setDisabled('alice', true);
    const disabled = (await registry.getUser('alice'))!;
    assert.equal(disabled.disabled, true);
    assert.ok(disabled.sessionsNotBefore > before);
    await registry.setDisabled('alice', false);
    await new Promise((r) => setTimeout(r, 5));
    await registry.setPassword('alice', '$argon2id$other');
    const changed = (await registry.getUser('alice'))!;
    assert.equal(changed.passwordHash, '$argon2id$other');
    assert.ok(changed.sessionsNotBefore > disabled.sessionsNotBefore);
    await registry.revokeSessions(undefined, changed.sessionsNotBefore + 1000);
    assert.equal((await registry.getUser('alice'))!.sessionsNotBefore, changed.sessionsNotBefore + 1000);
  });

  test('a secret is created once; later callers get the first value', async () => {
    const first = await registry.secret('k', () => 'one');
    const second = await registry.secret('k', () => 'two');
    assert.equal(first, 'one');
    assert.equal(second, 'one');
  });

  test('user names are data, not SQL', async () => {
    const name = "x'); drop table fg_users; --";
    await registry.addUser({ name, passwordHash: 'h' });
    assert.equal((await registry.getUser(name))?.name, name);
    assert.ok((await registry.countUsers()) >= 2);
  });

  test('deleting a role removes its grants and memberships', async () => {
    await registry.deleteRole('analysts');
    assert.deepEqual((await registry.getUser('alice'))?.roles, []);
    assert.equal((await registry.grants()).length, 0);
    await registry.deleteUser('alice');
    assert.equal(await registry.getUser('alice'), undefined);
  });
}

describe('registry on SQLite', () => {
  const dir = tempDir();
  after(() => rmSync(dir, { recursive: true, force: true }));
  contract(() => openRegistry({ dataDir: dir }));
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
  contract(() => openRegistry({ databaseUrl: url, dataDir: tempDir() }));

  test('PostgreSQL down: UNAVAILABLE, and service resumes by itself when it is back', async () => {
    const registry = await openRegistry({ databaseUrl: url, dataDir: tempDir(), onBackendError: () => undefined });
    try {
      await registry.countUsers();
      await pg.stop();
      await assert.rejects(registry.getUser('alice'), status('UNAVAILABLE'));
      await assert.rejects(registry.countUsers(), status('UNAVAILABLE'));
      await pg.start();
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await registry.countUsers().then(() => true, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ok, 'the registry answers again after PostgreSQL restarted');
    } finally {
      await registry.close();
    }
  });
});
