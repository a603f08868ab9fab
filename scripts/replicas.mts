/**
 * Three flightgate replicas on this machine, for trying the replicated set-up: a private
 * PostgreSQL and Redis (as the tests start them), one shared data directory, and three `serve`
 * processes on ports 8815-8817 (HTTP 8080-8082) with the demo data. Prints where each listens and
 * runs until Ctrl-C, which stops everything and removes the temporary directory.
 *
 * usage: npm run replicas      (PORT_BASE=9815 to move the ports; KEEP=1 keeps the directory)
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startPostgres } from '../test/helpers/postgres.js';
import { startRedis } from '../test/helpers/redis.js';
import { startCliServer, type CliServer } from '../test/helpers/cli-server.js';
import { tempDir } from '../test/helpers/server.js';

const base = Number(process.env.PORT_BASE ?? 8815);
const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
const dir = tempDir('fg-replicas-');
const env = {
  FLIGHTGATE_DATABASE_URL: await pg.createDatabase(),
  FLIGHTGATE_REDIS_URL: redis.url,
  FLIGHTGATE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  FLIGHTGATE_AUDIT_FILE: `${dir}/audit.log`,
  FLIGHTGATE_DEMO_NUMBERS_ROWS: process.env.FLIGHTGATE_DEMO_NUMBERS_ROWS ?? '1000000',
};
const replicas: CliServer[] = [];
for (let i = 0; i < 3; i++) {
  const port = base + i;
  replicas.push(
    await startCliServer(['--demo', '--data-dir', dir, '--port', String(port), '--http-port', String(8080 + (base - 8815) + i)], {
      ...env,
      FLIGHTGATE_ADVERTISED_URI: `grpc://127.0.0.1:${port}`,
    }),
  );
}
console.log(`shared data directory: ${dir}`);
console.log(`PostgreSQL: ${env.FLIGHTGATE_DATABASE_URL}`);
console.log(`Redis: ${redis.url}`);
for (const [i, r] of replicas.entries()) console.log(`replica ${i + 1}: ${r.uri} (token service ${r.httpUri})`);
console.log('demo users: admin/admin123, user1/pass1, user2/pass2. Ctrl-C stops everything.');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(replicas.map((r) => r.stop()));
  await Promise.all([redis.stop(), pg.stop()]);
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
