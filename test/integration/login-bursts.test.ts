/**
 * Bursts of concurrent logins against real servers: 200 Handshakes at once (on one connection, and
 * spread over 10) get at most the lockout's number of password verifications, and once the account
 * is locked the right password is refused; the same holds over two replicas sharing
 * Redis. Verifications are counted from the audit log (one auth.failure per verified guess).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startCliServer, type CliServer } from '../helpers/cli-server.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

interface AuditLine {
  event: string;
  reason?: string;
  principal?: string;
  rpc?: string;
}

function auditLines(file: string): AuditLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
}

/** Guesses whose password was actually verified: the throttle refuses the others before hashing. */
const verified = (lines: AuditLine[], user: string): number =>
  lines.filter((l) => l.event === 'auth.failure' && l.principal === user && /^(wrong password|unknown user|account disabled)$/.test(l.reason ?? '')).length;

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

/** 199 wrong passwords and the right one last, all started at once over `clients`. */
async function burst(clients: FlightClient[], user: string, right: string): Promise<{ statuses: Map<string, number> }> {
  const calls: Promise<string>[] = [];
  for (let i = 0; i < 200; i++) {
    const c = clients[i % clients.length]!;
    calls.push(c.login(user, i === 199 ? right : `wrong-${i}`));
  }
  const settled = await Promise.allSettled(calls);
  const statuses = new Map<string, number>();
  for (const s of settled) {
    const key = s.status === 'fulfilled' ? 'OK' : s.reason instanceof FlightgateError ? s.reason.statusName : String(s.reason);
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }
  return { statuses };
}

/** Sends wrong guesses one at a time until the throttle says the account is locked; returns how many it took. */
async function guessUntilLocked(client: FlightClient, user: string): Promise<void> {
  for (let i = 0; i < 30; i++) {
    try {
      await client.login(user, `sequential-${i}`);
      assert.fail('a wrong password logged in');
    } catch (err) {
      assert.ok(err instanceof FlightgateError);
      if (/too many failed logins/.test(err.message)) return;
    }
  }
  assert.fail('the account never locked');
}

let server: TestServer;
const throttle = { lockoutFailures: 10, maxInFlightPerAccount: 4, freeFailures: 1000, baseDelayMs: 0 };

before(async () => {
  server = await startTestServer({ demo: true, demoNumbersRows: 10, auth: { throttle } }, { secure: true });
});
after(async () => {
  await server?.stop();
});

for (const connections of [1, 10]) {
  test(`200 concurrent logins over ${connections} connection(s): at most lockoutFailures verified, and the right password refused once locked`, async () => {
    const user = connections === 1 ? 'user1' : 'user2';
    const right = connections === 1 ? 'pass1' : 'pass2';
    const clients = Array.from({ length: connections }, () => new FlightClient(server.uri));
    try {
      const { statuses } = await burst(clients, user, right);
      // The right password sent last may be among the few guesses verified (streams past the
      // connection's limit wait for earlier ones), or refused; what matters is how many were verified.
      await settle();
      const afterBurst = verified(auditLines(join(server.dataDir, 'audit.log')), user);
      assert.ok(afterBurst <= throttle.lockoutFailures, `${afterBurst} guesses verified in the burst (statuses ${JSON.stringify([...statuses])})`);
      await guessUntilLocked(clients[0]!, user);
      await assert.rejects(clients[0]!.login(user, right), /too many failed logins/, 'the right password after the lock is refused');
      await settle();
      // A success in the burst (the right password among the verified) starts the count afresh.
      const total = verified(auditLines(join(server.dataDir, 'audit.log')), user);
      const limit = statuses.has('OK') ? throttle.lockoutFailures + afterBurst : throttle.lockoutFailures;
      assert.ok(total <= limit, `${total} guesses verified in all (${afterBurst} in the burst, statuses ${JSON.stringify([...statuses])})`);
      // Another account at the same address still logs in: the lock is on this account at this address.
      assert.ok((await new FlightClient(server.uri).login('admin', 'admin123')).startsWith('fgs_'));
    } finally {
      for (const c of clients) await c.close();
    }
  });
}

test('two replicas sharing Redis: a burst spread over both verifies at most lockoutFailures guesses in all', async () => {
  const redis: RedisServer = await startRedis();
  const dirs = [tempDir(), tempDir()];
  const replicas: CliServer[] = [];
  const clients: FlightClient[] = [];
  try {
    const env = {
      FLIGHTGATE_REDIS_URL: redis.url,
      FLIGHTGATE_AUTH_THROTTLE_FREE_FAILURES: '1000',
      FLIGHTGATE_AUTH_THROTTLE_BASE_DELAY_MS: '0',
    };
    for (const d of dirs) replicas.push(await startCliServer(['--demo', '--data-dir', d], { ...env, FLIGHTGATE_AUDIT_FILE: join(d, 'audit.log') }));
    for (const r of replicas) for (let i = 0; i < 5; i++) clients.push(new FlightClient(r.uri));
    await burst(clients, 'user1', 'pass1');
    await guessUntilLocked(clients[0]!, 'user1');
    await assert.rejects(clients[clients.length - 1]!.login('user1', 'pass1'), /too many failed logins/, 'locked on the other replica too');
    await settle();
    const total = dirs.reduce((n, d) => n + verified(auditLines(join(d, 'audit.log')), 'user1'), 0);
    assert.ok(total <= 10, `${total} guesses verified over both replicas`);
  } finally {
    for (const c of clients) await c.close();
    await Promise.all(replicas.map((r) => r.stop()));
    await redis.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
