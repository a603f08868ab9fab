/**
 * The pyarrow security suite (py/test_pyarrow_security.py), run twice: against servers using the
 * embedded stores (SQLite registry, sessions in memory) and against servers using PostgreSQL and
 * Redis. Afterwards every line the servers and the CLI printed, audit log included, is searched
 * for the passwords and tokens the suite used.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { runPython } from '../helpers/python.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tempDir } from '../helpers/server.js';

const SHORT = {
  FLIGHTGATE_SESSION_LIFETIME_SECONDS: '3',
  FLIGHTGATE_SESSION_IDLE_SECONDS: '1.2',
  FLIGHTGATE_SESSION_ROTATE_AFTER: '1',
  FLIGHTGATE_REGISTRY_CACHE_MS: '300',
  FLIGHTGATE_THROTTLE_LOCKOUT_FAILURES: '5',
};
const ROTATE = {
  FLIGHTGATE_SESSION_LIFETIME_SECONDS: '4',
  FLIGHTGATE_SESSION_IDLE_SECONDS: '3',
  FLIGHTGATE_SESSION_ROTATE_AFTER: '0.5',
  FLIGHTGATE_SESSION_ROTATION_GRACE_SECONDS: '1',
};

interface Variant {
  /** Environment for one server and the CLI calls against its registry; `n` tells servers apart. */
  storeEnv(n: number, dataDir: string): Promise<Record<string, string>>;
}

function suite(name: string, variant: Variant, setUp: () => Promise<void>, tearDown: () => Promise<void>): void {
  describe(name, () => {
    const servers: CliServer[] = [];
    const dirs: string[] = [];
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await tearDown();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test('pyarrow: logins in both Handshake styles, bearer calls, authorization, sessions, throttling; no secret in any log', async () => {
      await setUp();
      const start = async (n: number, timings: Record<string, string>): Promise<{ server: CliServer; env: Record<string, string> }> => {
        const dir = tempDir();
        dirs.push(dir);
        const env = await variant.storeEnv(n, dir);
        const server = await startCliServer(['--demo', '--data-dir', dir], { ...env, ...timings });
        servers.push(server);
        return { server, env: { ...env, FLIGHTGATE_DATA_DIR: dir } };
      };
      const [main, short, rotate] = await Promise.all([start(0, {}), start(1, SHORT), start(2, ROTATE)]);
      const secretsFile = join(dirs[0]!, 'secrets.txt');
      writeFileSync(secretsFile, '');
      const result = await runPython(['test/interop/py/test_pyarrow_security.py'], {
        FG_URI: main.server.uri,
        FG_SHORT_URI: short.server.uri,
        FG_ROTATE_URI: rotate!.server.uri,
        FG_CLI: JSON.stringify([process.execPath, CLI]),
        FG_CLI_ENV: JSON.stringify(main.env),
        FG_SHORT_CLI_ENV: JSON.stringify(short.env),
        FG_SECRETS_FILE: secretsFile,
      });
      assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
      assert.match(result.stderr, /Ran \d+ tests/);
      assert.doesNotMatch(result.stderr, /skipped/);

      const secrets = readFileSync(secretsFile, 'utf8').split('\n').map((s) => s.replace(/^Bearer /, '').trim()).filter(Boolean);
      assert.ok(secrets.length > 20, `the suite recorded its secrets (${secrets.length})`);
      const logs = servers.map((s) => s.output.join('')).join('\n') + result.stdout + result.stderr.replace(/Ran \d+ tests[\s\S]*/, '');
      assert.match(logs, /"event":"auth.success"/, 'the audit log was captured');
      for (const secret of secrets) {
        // The whole secret, or the random part of a token, must appear nowhere.
        const needle = secret.startsWith('fgs_') ? secret.slice(4, 28) : secret;
        assert.ok(!logs.includes(needle), `a secret reached a log: ${secret.slice(0, 6)}…`);
      }
    });
  });
}

suite(
  'SQLite registry + sessions in memory',
  { storeEnv: async () => ({}) },
  async () => undefined,
  async () => undefined,
);

let redis: RedisServer | undefined;
let pg: PostgresServer | undefined;
suite(
  'PostgreSQL registry + Redis sessions',
  {
    // Each server has its own database and Redis database number, as separate deployments would.
    storeEnv: async (n) => ({ FLIGHTGATE_KEY_ENCRYPTION_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=', FLIGHTGATE_DATABASE_URL: await pg!.createDatabase(), FLIGHTGATE_REDIS_URL: `${redis!.url}/${n + 1}` }),
  },
  async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  },
  async () => {
    await Promise.all([redis?.stop(), pg?.stop()]);
  },
);
