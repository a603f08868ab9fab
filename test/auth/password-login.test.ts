/**
 * Password logins against a real (SQLite) registry: the same answer, after the same work, for an
 * unknown user, a wrong password and a disabled account; lockouts audited.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/audit/audit-log.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { BAD_LOGIN_MESSAGE, PasswordLogin } from '../../src/auth/password-login.js';
import { parseBasicCredentials } from '../../src/auth/basic-credentials.js';
import { LoginThrottle } from '../../src/auth/throttle.js';
import { MemoryAttemptCounter } from '../../src/stores/memory-attempt-counter.js';
import { UserDirectory } from '../../src/auth/user-directory.js';
import { FlightgateError } from '../../src/core/errors.js';
import type { Registry } from '../../src/stores/registry.js';
import { openRegistry } from '../../src/stores/sql/open.js';
import { tempDir } from '../helpers/server.js';

const dir = tempDir();
let registry: Registry;
const events: AuditEvent[] = [];
const audit = { record: (e: AuditEvent) => events.push(e) };
const noDelays = { freeFailures: 1000, baseDelayMs: 0, maxDelayMs: 0, lockoutFailures: 1000, lockoutSeconds: 1, peerLockoutFailures: 1000, accountFailuresPerHour: 1000, knownAddressDays: 30, maxInFlightPerAccount: 4, maxInFlightPerAddress: 32, maxLoginsInFlight: 64 };

before(async () => {
  registry = await openRegistry({ dataDir: dir });
  await registry.users.add({ name: 'alice', passwordHash: await hashPassword('correct horse') });
  await registry.users.add({ name: 'dave', passwordHash: await hashPassword('correct horse') });
  await registry.users.setDisabled('dave', true);
});
after(async () => {
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = { rpc: 'Handshake', peer: '127.0.0.1:5000' };

async function failure(login: PasswordLogin, user: string, password: string): Promise<{ message: string; ms: number }> {
  const t0 = performance.now();
  try {
    await login.verify(user, password, ctx);
  } catch (err) {
    assert.ok(err instanceof FlightgateError);
    assert.equal(err.statusName, 'UNAUTHENTICATED');
    return { message: err.message, ms: performance.now() - t0 };
  }
  assert.fail(`${user} logged in with a bad password`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('unknown user, wrong password and disabled account: same message, comparable time (a hash is always verified)', async () => {
  const login = new PasswordLogin(new UserDirectory(registry.users, registry.roles, 0), new LoginThrottle(noDelays, new MemoryAttemptCounter()), audit);
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 6; i++) {
    const a = await failure(login, 'nobody', 'correct horse');
    const b = await failure(login, 'alice', 'wrong horse');
    const c = await failure(login, 'dave', 'correct horse');
    assert.equal(a.message, BAD_LOGIN_MESSAGE);
    assert.equal(b.message, BAD_LOGIN_MESSAGE);
    assert.equal(c.message, BAD_LOGIN_MESSAGE);
    unknown.push(a.ms);
    wrong.push(b.ms);
  }
  const ratio = median(unknown) / median(wrong);
  assert.ok(ratio > 0.5 && ratio < 2, `unknown ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`);
  assert.ok(median(unknown) > 5, 'an unknown user still costs an argon2id verification');
  assert.equal((await login.verify('alice', 'correct horse', ctx)).name, 'alice');
});

test('a lockout refuses even the right password, is audited, and names no one who does not exist', async () => {
  events.length = 0;
  const throttle = new LoginThrottle({ ...noDelays, lockoutFailures: 3, lockoutSeconds: 60 }, new MemoryAttemptCounter());
  const login = new PasswordLogin(new UserDirectory(registry.users, registry.roles, 0), throttle, audit);
  for (let i = 0; i < 3; i++) await failure(login, 'alice', 'wrong horse');
  const locked = await failure(login, 'alice', 'correct horse');
  assert.match(locked.message, /too many failed logins/);
  assert.ok(events.some((e) => e.event === 'auth.lockout' && e.principal === 'alice'));
  assert.ok(!JSON.stringify(events).includes('horse'), 'no password in audit events');
});

test('a password that is not valid UTF-8 matches nothing, not even one stored as U+FFFD characters', async () => {
  await registry.users.add({ name: 'latin', passwordHash: await hashPassword('\uFFFD'.repeat(8)) });
  const login = new PasswordLogin(new UserDirectory(registry.users, registry.roles, 0), new LoginThrottle(noDelays, new MemoryAttemptCounter()), audit);
  const basic = (bytes: Buffer): string => Buffer.concat([Buffer.from('latin:'), bytes]).toString('base64');
  const parsed = parseBasicCredentials(basic(Buffer.alloc(8, 0xff)));
  assert.equal(parsed.password, undefined, 'invalid UTF-8 is not decoded leniently');
  assert.equal((await failure(login, 'latin', parsed.password as unknown as string)).message, BAD_LOGIN_MESSAGE);
  // The same stored password typed as the characters it is still logs in.
  assert.equal((await login.verify('latin', parseBasicCredentials(basic(Buffer.from('\uFFFD'.repeat(8)))).password, ctx)).name, 'latin');
});
