/**
 * Replicas on this machine: three `serve` processes sharing a data directory, PostgreSQL and
 * Redis (started here, as the tests start them), and one embedded server for comparison.
 *  - Aggregate DoGet MB/s of one 6-segment dataset read whole by a parallel client: the three
 *    endpoints of its FlightInfo fetched at once, from 1, 2 or 3 of the replicas (every replica
 *    serves every range), alternating in rounds. On a machine of two cores the replicas compete
 *    for the same cores as the client, so this shows the overhead of spreading, not a speed-up.
 *  - Commit latency of a small append (1,000 rows, durable) with the catalog in PostgreSQL
 *    against the embedded catalog (manifest files), alternating.
 * One JSON line per round and a summary per figure.
 *
 * usage: node --import tsx bench/replicas.mts   (env BENCH_RUNS, BENCH_APPENDS)
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tableFromArrays, type Table } from 'apache-arrow';
import { descriptors } from '../src/flight/client/descriptors.js';
import { FlightClient } from '../src/flight/client/flight-client.js';
import { freePort } from '../test/helpers/free-port.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { startRedis } from '../test/helpers/redis.js';
import { startCliServer, type CliServer } from '../test/helpers/cli-server.js';
import { tempDir } from '../test/helpers/server.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const APPENDS = Number(process.env.BENCH_APPENDS ?? 200);
const SEGMENT_ROWS = 1_000_000;
const emit = (o: object): void => console.log(JSON.stringify(o));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
const shared = tempDir('fg-bench-replicas-');
const embeddedDir = tempDir('fg-bench-embedded-');
const servers: CliServer[] = [];
const clients: FlightClient[] = [];
try {
  const env = {
    FLIGHTGATE_DATABASE_URL: await pg.createDatabase(),
    FLIGHTGATE_REDIS_URL: redis.url,
    FLIGHTGATE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    FLIGHTGATE_AUDIT_FILE: '/dev/null',
  };
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    servers.push(await startCliServer(['--demo', '--data-dir', shared, '--port', String(port)], { ...env, FLIGHTGATE_ADVERTISED_URI: `grpc://127.0.0.1:${port}` }));
  }
  const embedded = await startCliServer(['--demo', '--data-dir', embeddedDir], { FLIGHTGATE_AUDIT_FILE: '/dev/null', FLIGHTGATE_DATABASE_URL: '', FLIGHTGATE_REDIS_URL: '' });
  servers.push(embedded);
  const login = async (s: CliServer): Promise<FlightClient> => {
    const c = new FlightClient(s.uri);
    clients.push(c);
    await c.login('admin', 'admin123');
    return c;
  };
  const replicas = await Promise.all(servers.slice(0, 3).map(login));
  const put = (dataset: string, mode: string) => descriptors.command(JSON.stringify({ dataset, mode }));
  const segment = (k: number): Table =>
    tableFromArrays({ id: BigInt64Array.from({ length: SEGMENT_ROWS }, (_, i) => BigInt(k * SEGMENT_ROWS + i)), value: Float64Array.from({ length: SEGMENT_ROWS }, (_, i) => i * 0.5) });
  await replicas[0]!.doPut(put('spread', 'replace'), segment(0));
  for (let k = 1; k < 6; k++) await replicas[0]!.doPut(put('spread', 'append'), segment(k));
  for (;;) {
    const info = await replicas[0]!.getFlightInfo('spread');
    if (info.endpoints.length === 3) break;
    await new Promise((r) => setTimeout(r, 200));
  }

  /** One whole read: the three endpoints at once, endpoint i from replica i mod `spread`. */
  const readOnce = async (spread: number): Promise<number> => {
    const info = await replicas[0]!.getFlightInfo('spread');
    const t0 = performance.now();
    const parts = await Promise.all(info.endpoints.map((e, i) => replicas[i % spread]!.doGet(e.ticket).readAll()));
    const seconds = (performance.now() - t0) / 1000;
    const bytes = parts.reduce((n, t) => n + t.batches.reduce((m, b) => m + b.data.byteLength, 0), 0);
    return bytes / seconds / 1e6;
  };
  for (const spread of [1, 2, 3]) await readOnce(spread); // warm-up
  const reads: Record<number, number[]> = { 1: [], 2: [], 3: [] };
  for (let run = 0; run < RUNS; run++) {
    const order = [1, 2, 3].slice(run % 3).concat([1, 2, 3].slice(0, run % 3));
    for (const spread of order) {
      let sum = 0;
      for (let k = 0; k < 3; k++) sum += await readOnce(spread);
      reads[spread]!.push(sum / 3);
      emit({ bench: 'replicas_doget', replicas: spread, run, mb_per_s: +(sum / 3).toFixed(1) });
    }
  }
  for (const spread of [1, 2, 3]) {
    const ratios = reads[spread]!.map((v, i) => v / reads[1]![i]!);
    emit({
      bench: 'replicas_doget', summary: true, replicas: spread, mb_per_s: +median(reads[spread]!).toFixed(1),
      ratio_to_one_replica: +(median(reads[spread]!) / median(reads[1]!)).toFixed(3),
      per_round_ratio_min: +Math.min(...ratios).toFixed(3), per_round_ratio_max: +Math.max(...ratios).toFixed(3),
      note: 'client and replicas share the machine\'s cores: overhead of spreading, not a speed-up',
    });
  }

  const targets = { postgres: replicas[1]!, embedded: await login(embedded) };
  const small = tableFromArrays({ id: BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i)) });
  for (const c of Object.values(targets)) await c.doPut(put('appended', 'replace'), small);
  const latencies: Record<string, number[]> = { postgres: [], embedded: [] };
  for (let i = 0; i < APPENDS; i++) {
    const names = i % 2 ? (['embedded', 'postgres'] as const) : (['postgres', 'embedded'] as const);
    for (const name of names) {
      const t0 = performance.now();
      await targets[name].doPut(put('appended', 'append'), small);
      latencies[name]!.push(performance.now() - t0);
    }
  }
  for (const [name, xs] of Object.entries(latencies)) {
    emit({ bench: 'replicas_commit', summary: true, catalog: name, appends: xs.length, p50_ms: +median(xs).toFixed(2), p99_ms: +quantile(xs, 0.99).toFixed(2) });
  }
  emit({ bench: 'replicas_commit', summary: true, figure: 'append p50, PostgreSQL catalog over embedded', ratio: +(median(latencies.postgres!) / median(latencies.embedded!)).toFixed(3) });
} finally {
  for (const c of clients) await c.close().catch(() => undefined);
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all([redis.stop(), pg.stop()]);
  rmSync(shared, { recursive: true, force: true });
  rmSync(embeddedDir, { recursive: true, force: true });
}
process.exit(0);
