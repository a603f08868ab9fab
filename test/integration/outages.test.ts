/**
 * Outages under load: Redis, then PostgreSQL, killed while clients keep calling with session
 * tokens, flightgate JWTs and API keys, then restarted. While a backend is down no call whose
 * check needs it succeeds (beyond the registry cache's bounded window), every such failure is
 * UNAVAILABLE, the server stays up, and service resumes by itself. Sessions and JWTs need Redis
 * (sessions, the revocation list); API keys do not. Every call needs PostgreSQL, if only for the
 * roles' grants the policy is read from.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { runCli, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tempDir } from '../helpers/server.js';

const CACHE_MS = 1000;
const CALLERS = 20;
let redis: RedisServer;
let pg: PostgresServer;
let server: CliServer;
let env: Record<string, string>;
let apiKey: string;
let clientBasic: string;

type Kind = 'session' | 'jwt' | 'apikey';

interface Outcome {
  kind: Kind;
  start: number;
  end: number;
  ok: boolean;
  status?: string;
  message?: string;
}

before(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  const dataDir = tempDir();
  env = {
    FLIGHTGATE_DATABASE_URL: await pg.createDatabase(),
    FLIGHTGATE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    FLIGHTGATE_REDIS_URL: redis.url,
    FLIGHTGATE_REGISTRY_CACHE_MS: String(CACHE_MS),
    FLIGHTGATE_TOKENS_API_KEY_CACHE_MS: String(CACHE_MS),
    FLIGHTGATE_AUDIT_FILE: '/dev/null',
  };
  server = await startCliServer(['--demo', '--data-dir', dataDir], env);
  const key = await runCli(['apikeys', 'create', 'outage-script', '--role', 'demo-db1-reader', '--data-dir', dataDir], env);
  assert.equal(key.code, 0, key.stderr);
  apiKey = /fgk_\S+/.exec(key.stdout)![0];
  const created = await runCli(['clients', 'add', 'outage-job', '--role', 'demo-db2-reader', '--data-dir', dataDir, '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const { client_id, client_secret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
  clientBasic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
});

/** A fresh flightgate JWT from client_credentials (the token service needs PostgreSQL for the client). */
async function jwt(): Promise<string> {
  const res = await fetch(`${server.httpUri}/oauth2/token`, { method: 'POST', headers: { authorization: clientBasic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

after(async () => {
  await server?.stop();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

/** Callers that keep calling until `stop` is set: sessions (logging in again when theirs is gone), JWTs, API keys. */
function keepCalling(control: { stop: boolean }, token: string): { outcomes: Outcome[]; done: Promise<void> } {
  const outcomes: Outcome[] = [];
  const done = Promise.all(
    Array.from({ length: CALLERS }, async (_, i) => {
      const kind: Kind = i % 4 === 0 ? 'jwt' : i % 4 === 1 ? 'apikey' : 'session';
      const [user, password, dataset] = kind === 'jwt' ? ['', '', 'db2'] : kind === 'apikey' ? ['', '', 'db1'] : i % 2 ? ['user1', 'pass1', 'db1'] : ['user2', 'pass2', 'db2'];
      const bearer = kind === 'jwt' ? token : kind === 'apikey' ? apiKey : undefined;
      const client = new FlightClient(server.uri, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});
      let loggedIn = kind !== 'session';
      try {
        while (!control.stop) {
          const start = Date.now();
          try {
            if (!loggedIn) {
              await client.login(user!, password!);
              loggedIn = true;
            }
            await client.getFlightInfo(dataset!, { timeoutMs: 5000 });
            outcomes.push({ kind, start, end: Date.now(), ok: true });
          } catch (err) {
            const e = err instanceof FlightgateError ? err : undefined;
            outcomes.push({ kind, start, end: Date.now(), ok: false, status: e?.statusName ?? String(err), message: e?.message });
            if (e?.statusName === 'UNAUTHENTICATED' && kind === 'session') loggedIn = false;
          }
          await sleep(20);
        }
      } finally {
        await client.close();
      }
    }),
  ).then(() => undefined);
  return { outcomes, done };
}

async function outage(kill: () => Promise<void>, restart: () => Promise<void>, graceMs: number): Promise<{ during: Outcome[]; after: Outcome[] }> {
  const control = { stop: false };
  const { outcomes, done } = keepCalling(control, await jwt());
  try {
    await sleep(1500);
    assert.ok(outcomes.filter((o) => o.ok).length > 50, 'callers succeed before the outage');
    const killedAt = Date.now();
    await kill();
    await sleep(3000);
    const restartedAt = Date.now();
    await restart();
    const deadline = Date.now() + 20_000;
    const resumed = (kind: Kind): boolean => outcomes.some((o) => o.kind === kind && o.ok && o.start > restartedAt);
    while (!(resumed('session') && resumed('jwt') && resumed('apikey')) && Date.now() < deadline) await sleep(100);
    await sleep(500);
    // Calls that began once the backend was gone (plus the cache window) and ended before it was back.
    const during = outcomes.filter((o) => o.start > killedAt + graceMs && o.end < restartedAt);
    return { during, after: outcomes.filter((o) => o.start > restartedAt) };
  } finally {
    control.stop = true;
    await done;
  }
}

function summary(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.kind} ${o.ok ? 'OK' : `${o.status}: ${o.message?.slice(0, 80)}`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return JSON.stringify([...counts]);
}

/** The calls of `kinds` in `outcomes` that did not fail with UNAVAILABLE. */
const notUnavailable = (outcomes: Outcome[], kinds: Kind[]): string[] =>
  outcomes.filter((o) => kinds.includes(o.kind) && (o.ok || o.status !== 'UNAVAILABLE')).map((o) => `${o.kind} ${o.status ?? 'OK'}`);

const resumedAll = (later: Outcome[]): string[] => (['session', 'jwt', 'apikey'] as const).filter((k) => !later.some((o) => o.kind === k && o.ok));

test('Redis killed under load: session and JWT calls in between fail UNAVAILABLE, none succeeds; API keys go on; all resume by themselves', async () => {
  const { during, after: later } = await outage(() => redis.kill(), () => redis.start(), 100);
  assert.ok(during.filter((o) => o.kind !== 'apikey').length > 100, `only ${during.length} calls during the outage`);
  assert.deepEqual(notUnavailable(during, ['session', 'jwt']), [], summary(during));
  assert.ok(during.some((o) => o.kind === 'apikey' && o.ok), `API keys do not need Redis: ${summary(during)}`);
  assert.deepEqual(resumedAll(later), [], `not resumed after Redis came back: ${summary(later)}\nserver (exit ${server.child.exitCode}):\n${server.output.join('').slice(-4000)}`);
  assert.equal(server.child.exitCode, null, 'the server stayed up');
});

test('PostgreSQL crashed under load: after the cache window every call fails UNAVAILABLE, whatever its credential; all resume by themselves', async () => {
  const { during, after: later } = await outage(() => pg.kill(), () => pg.start(), CACHE_MS + 500);
  assert.ok(during.length > 100, `only ${during.length} calls during the outage`);
  assert.deepEqual(notUnavailable(during, ['session', 'jwt', 'apikey']), [], summary(during));
  assert.deepEqual(resumedAll(later), [], `not resumed after PostgreSQL came back: ${summary(later)}\nserver (exit ${server.child.exitCode}):\n${server.output.join('').slice(-4000)}`);
  assert.equal(server.child.exitCode, null, 'the server stayed up');
  const ready = await fetch(`${server.httpUri}/readyz`);
  assert.equal(ready.status, 200, await ready.text());
});
