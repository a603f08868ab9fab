/**
 * A bounded load on a real `flightgate serve` process: N concurrent authenticated clients, each
 * on its own connection, mixing logins (a new session, then closing the old one), small calls
 * (GetFlightInfo, ListFlights, DoAction ping) and DoGets, for a fixed time. Reports latency
 * percentiles per kind of operation, every error, and the server's resident memory over time.
 * Used by `npm run soak` (200 clients, 60 s) and, shorter, by the default test suite.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { startCliServer } from '../helpers/cli-server.js';
import { tempDir } from '../helpers/server.js';

export interface SoakOptions {
  clients: number;
  seconds: number;
  /** Seconds at the start excluded from the memory comparison. */
  warmupSeconds: number;
  /** Rows of the demo `numbers` dataset, read by the large DoGets. */
  numbersRows: number;
  log?: (line: string) => void;
}

type Op = 'login' | 'getFlightInfo' | 'listFlights' | 'ping' | 'doGetSmall' | 'doGetNumbers';

export interface SoakReport {
  clients: number;
  seconds: number;
  operations: number;
  opsPerSecond: number;
  errors: string[];
  latencyMs: Record<Op, { count: number; p50: number; p99: number; max: number }>;
  rssMiB: { afterWarmup: number; end: number; max: number; growth: number };
}

const USERS = [
  { user: 'user1', password: 'pass1', dataset: 'db1' },
  { user: 'user2', password: 'pass2', dataset: 'db2' },
  { user: 'admin', password: 'admin123', dataset: 'numbers' },
] as const;

/** Picks the next operation: mostly small calls, some DoGets, a few logins. */
function pick(r: number): Op {
  if (r < 0.03) return 'login';
  if (r < 0.33) return 'getFlightInfo';
  if (r < 0.5) return 'listFlights';
  if (r < 0.7) return 'ping';
  if (r < 0.97) return 'doGetSmall';
  return 'doGetNumbers';
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

const percentile = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN);
const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 0.5);
const round = (x: number): number => Math.round(x * 100) / 100;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const dataDir = tempDir('fg-soak-');
  const server = await startCliServer(['--demo', '--data-dir', dataDir], {
    FLIGHTGATE_DEMO_NUMBERS_ROWS: String(options.numbersRows),
    FLIGHTGATE_AUDIT_FILE: `${dataDir}/audit.log`,
  });
  const pid = server.child.pid!;
  const latencies = new Map<Op, number[]>();
  const errors: string[] = [];
  const rss: { t: number; mib: number }[] = [];
  let operations = 0;
  try {
    const clients = await Promise.all(
      Array.from({ length: options.clients }, async (_, i) => {
        const who = USERS[i % USERS.length]!;
        const client = new FlightClient(server.uri);
        const token = await client.login(who.user, who.password);
        return { client, who, token };
      }),
    );
    log(`${options.clients} clients logged in; load for ${options.seconds} s`);
    const started = Date.now();
    const end = started + options.seconds * 1000;
    const sampler = (async () => {
      while (Date.now() < end) {
        rss.push({ t: (Date.now() - started) / 1000, mib: rssMiB(pid) });
        await sleep(1000);
      }
    })();
    await Promise.all(
      clients.map(async (c) => {
        const { client, who } = c;
        while (Date.now() < end) {
          const op = pick(Math.random());
          const t = performance.now();
          try {
            switch (op) {
              case 'login': {
                // A new session, then the old one closed: sessions do not pile up over the run.
                const old = c.token;
                c.token = await client.login(who.user, who.password);
                await client.doAction('CloseSession', new Uint8Array(0), { headers: { authorization: `Bearer ${old}` } });
                break;
              }
              case 'getFlightInfo':
                await client.getFlightInfo(who.dataset === 'numbers' ? 'db1' : who.dataset);
                break;
              case 'listFlights':
                for await (const info of client.listFlights()) void info;
                break;
              case 'ping':
                await client.doAction('ping');
                break;
              case 'doGetSmall':
                await client.readTable(who.dataset === 'numbers' ? 'db2' : who.dataset);
                break;
              case 'doGetNumbers':
                await client.readTable(who.dataset === 'numbers' ? 'numbers' : who.dataset);
                break;
            }
            operations++;
            let list = latencies.get(op);
            if (!list) latencies.set(op, (list = []));
            list.push(performance.now() - t);
          } catch (err) {
            errors.push(`${who.user} ${op}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }),
    );
    await sampler;
    await Promise.all(clients.map(({ client }) => client.close()));
    const elapsed = (Date.now() - started) / 1000;
    const latencyMs = {} as SoakReport['latencyMs'];
    for (const [op, xs] of latencies) {
      const sorted = [...xs].sort((a, b) => a - b);
      latencyMs[op] = { count: sorted.length, p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), max: round(sorted[sorted.length - 1]!) };
    }
    // Medians over a few samples either side, so one GC pause does not decide the figure.
    const afterWarmup = median(rss.filter((s) => s.t >= options.warmupSeconds && s.t < options.warmupSeconds + 5).map((s) => s.mib));
    const last = median(rss.slice(-5).map((s) => s.mib));
    return {
      clients: options.clients,
      seconds: round(elapsed),
      operations,
      opsPerSecond: round(operations / elapsed),
      errors,
      latencyMs,
      rssMiB: { afterWarmup: round(afterWarmup), end: round(last), max: round(Math.max(...rss.map((s) => s.mib))), growth: round(last / afterWarmup - 1) },
    };
  } finally {
    await server.stop();
  }
}
