/** The administration commands and first start: what an operator types and sees. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { runCli, startCliServer } from '../helpers/cli-server.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = (args: string[], input?: string | Buffer) => runCli([...args, '--data-dir', dir], { FLIGHTGATE_DATABASE_URL: '', FLIGHTGATE_REDIS_URL: '' }, input);

test('an empty registry: serve starts, nobody can log in, and it says how to create the first admin', async () => {
  const server = await startCliServer(['--data-dir', dir], { FLIGHTGATE_AUDIT_FILE: '/dev/null' });
  const client = new FlightClient(server.uri);
  try {
    const out = server.output.join('');
    assert.match(out, /registry is empty/);
    assert.match(out, /flightgate users add/);
    await assert.rejects(client.login('admin', 'admin123'), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED');
  } finally {
    await client.close();
    await server.stop();
  }
});

test('users and roles commands, with --json; passwords only from stdin or a prompt', async () => {
  assert.equal((await cli(['roles', 'create', 'analysts'])).code, 0);
  const grant = await cli(['roles', 'grant', 'analysts', '--dataset', 'sales_*', '--action', 'read', '--action', 'list']);
  assert.equal(grant.code, 0, grant.stderr);
  const add = await cli(['users', 'add', 'alice', '--role', 'analysts', '--json'], 'a-long-password\n');
  assert.equal(add.code, 0, add.stderr);
  assert.deepEqual(JSON.parse(add.stdout).roles, ['analysts']);
  assert.doesNotMatch(add.stdout + add.stderr, /a-long-password/);

  const list = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as { name: string; disabled: boolean; passwordHash?: string }[];
  assert.deepEqual(list.map((u) => [u.name, u.disabled]), [['alice', false]]);
  assert.equal(list[0]!.passwordHash, undefined, 'hashes are never printed');

  const roles = JSON.parse((await cli(['roles', 'list', '--json'])).stdout) as { name: string; members: string[]; grants: { action: string }[] }[];
  assert.deepEqual(roles[0]!.members, ['alice']);
  assert.deepEqual(roles[0]!.grants.map((g) => g.action).sort(), ['list', 'read']);

  assert.equal((await cli(['users', 'disable', 'alice'])).code, 0);
  assert.equal(JSON.parse((await cli(['users', 'list', '--json'])).stdout)[0].disabled, true);
  assert.equal((await cli(['users', 'enable', 'alice'])).code, 0);
  assert.equal((await cli(['users', 'passwd', 'alice', '--password-stdin'], 'another-long-one\n')).code, 0);
  assert.equal((await cli(['roles', 'unassign', 'analysts', 'alice'])).code, 0);
  assert.equal((await cli(['roles', 'assign', 'analysts', 'alice'])).code, 0);
  assert.equal((await cli(['roles', 'revoke', 'analysts', '--dataset', 'sales_*', '--action', 'list'])).code, 0);
  assert.equal((await cli(['sessions', 'revoke', 'alice'])).code, 0);
  assert.equal((await cli(['users', 'delete', 'alice'])).code, 0);
  assert.deepEqual(JSON.parse((await cli(['users', 'list', '--json'])).stdout), []);
});

test('mistakes get a clear message and exit 2; missing things exit 1', async () => {
  const cases: [string[], string | undefined, number, RegExp][] = [
    [['users', 'add', 'bob'], 'short\n', 2, /at least 8 characters/],
    [['users', 'add', 'bob'], '', 2, /no password on standard input/],
    [['users', 'add', 'bad name!'], 'long-enough-pw\n', 2, /invalid user name/],
    [['users', 'add', 'bob', '--role', 'ghost'], 'long-enough-pw\n', 1, /no role "ghost"/],
    [['users', 'add', 'bob', '--password', 'x'], undefined, 2, /Unknown option '--password'/],
    [['roles', 'grant', 'ghost', '--dataset', 'x', '--action', 'read'], undefined, 1, /no role "ghost"/],
    [['roles', 'grant', 'analysts', '--dataset', 'x', '--action', 'fly'], undefined, 2, /unknown action "fly"/],
    [['users', 'frobnicate'], undefined, 2, /unknown users command/],
    [['users', 'disable', 'nobody'], undefined, 1, /no user "nobody"/],
    [['sessions', 'revoke'], undefined, 2, /a user name or --all/],
  ];
  for (const [args, input, code, message] of cases) {
    const r = await cli(args, input);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('a password that is not UTF-8 (a Latin-1 terminal) is refused with a clear message, not stored as U+FFFD', async () => {
  const latin1 = Buffer.from('gr\xfc\xdfe-aus-k\xf6ln\n', 'latin1');
  const add = await cli(['users', 'add', 'latin1user'], latin1);
  assert.equal(add.code, 2, add.stderr);
  assert.match(add.stderr, /not valid UTF-8/);
  assert.deepEqual((JSON.parse((await cli(['users', 'list', '--json'])).stdout) as { name: string }[]).filter((u) => u.name === 'latin1user'), []);
});
