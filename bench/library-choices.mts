/**
 * Library choices, measured in one run with alternating rounds: for each job flightgate did with
 * code of its own (the Prometheus registry, the audit writer, the certificate builder), our code
 * against the well-kept library for it. Where the library won, our former code is kept in
 * bench/replaced/ as the baseline; where ours stayed (the audit writer: the library doubles the
 * cost of the line every authenticated call writes), it is the code in src/. Prints one JSON line
 * per round and a summary per job: library cost / ours, median and spread.
 *
 *   node --import tsx bench/library-choices.mts
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Counter as PromCounter, Histogram as PromHistogram, Registry as PromRegistry } from 'prom-client';
import { AuditLog as OurAuditLog, redact } from '../src/audit/audit-log.js';
import { issueCertificate as ourIssue } from './replaced/certificate-builder.js';
import { Counter as OurCounter, Histogram as OurHistogram, MetricsRegistry as OurRegistry } from './replaced/metrics.js';
import { issueCertificate as libraryIssue } from '../src/tls/certificate-builder.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RPCS = ['Handshake', 'ListFlights', 'GetFlightInfo', 'GetSchema', 'DoGet', 'DoPut', 'DoAction', 'ListActions'];
const CODES = ['OK', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'NOT_FOUND'];
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

interface Job {
  name: string;
  unit: string;
  ours: () => Promise<number>;
  library: () => Promise<number>;
}

/** CPU microseconds of this process (user + system) spent in `work`. */
async function cpuMicros(work: () => Promise<void> | void): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

// The per-call metric work the transport and the audit observer do: one counter and one
// histogram per call ended, and one authentication counter.
const CALLS = 1_000_000;
function callLabels(i: number): { rpc: string; code: string } {
  return { rpc: RPCS[i % RPCS.length]!, code: CODES[(i >> 3) % CODES.length]! };
}

/** The three metrics a call touches, in one implementation or the other. */
interface CallMetrics {
  calls: { inc(labels: { rpc: string; code: string }): void };
  latency: { observe(labels: { rpc: string }, value: number): void };
  auth: { inc(labels: { method: string; outcome: string }): void };
  render(): Promise<string> | string;
}

function ourMetrics(): CallMetrics {
  const r = new OurRegistry();
  return {
    calls: r.register(new OurCounter('calls_total', 'calls', ['rpc', 'code'])),
    latency: r.register(new OurHistogram('duration_seconds', 'duration', ['rpc'], BUCKETS)),
    auth: r.register(new OurCounter('auth_total', 'auth', ['method', 'outcome'])),
    render: () => r.render(),
  };
}

function promMetrics(): CallMetrics {
  const r = new PromRegistry();
  return {
    calls: new PromCounter({ name: 'calls_total', help: 'calls', labelNames: ['rpc', 'code'], registers: [r] }),
    latency: new PromHistogram({ name: 'duration_seconds', help: 'duration', labelNames: ['rpc'], buckets: BUCKETS, registers: [r] }),
    auth: new PromCounter({ name: 'auth_total', help: 'auth', labelNames: ['method', 'outcome'], registers: [r] }),
    render: () => r.metrics(),
  };
}

/** ns CPU per call of what a call records. */
async function metricCallCost(make: () => CallMetrics): Promise<number> {
  const m = make();
  const us = await cpuMicros(() => {
    for (let i = 0; i < CALLS; i++) {
      const l = callLabels(i);
      m.calls.inc(l);
      m.latency.observe({ rpc: l.rpc }, (i % 100) / 10_000);
      m.auth.inc({ method: 'session', outcome: 'ok' });
    }
  });
  return (us * 1000) / CALLS;
}

// A scrape of a registry holding every series a busy server has (8 RPCs × 4 codes, histograms).
const SCRAPES = 2000;
async function scrapeCost(make: () => CallMetrics): Promise<number> {
  const m = make();
  for (let i = 0; i < 1000; i++) {
    m.calls.inc(callLabels(i));
    m.latency.observe({ rpc: callLabels(i).rpc }, i / 1000);
  }
  const us = await cpuMicros(async () => {
    for (let i = 0; i < SCRAPES; i++) await m.render();
  });
  return us / SCRAPES;
}

// Audit lines: an authentication event per call, written to a file, until it is all on disk.
const EVENTS = 200_000;
const event = (i: number) =>
  ({ event: 'auth.success', outcome: 'ok', principal: `user${i % 50}`, kind: 'user', method: 'session', peer: '127.0.0.1:50123', rpc: 'GetFlightInfo' }) as const;

interface AuditWriter {
  record(i: number): void;
  /** Resolves once every line is on disk. */
  finish(): Promise<void>;
}

/** CPU µs per event of writing EVENTS lines with a writer made for a fresh file. */
async function auditCost(what: string, open: (file: string) => AuditWriter): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-audit-'));
  try {
    const file = join(dir, 'audit.log');
    const writer = open(file);
    const us = await cpuMicros(async () => {
      for (let i = 0; i < EVENTS; i++) {
        writer.record(i);
        // Calls arrive over time: give the timers a turn now and then, as a server does.
        if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
      }
      await writer.finish();
    });
    if (statSync(file).size < EVENTS * 100) throw new Error(`${what} lost lines`);
    return us / EVENTS;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sonicBoom = (file: string) => pino.destination({ dest: file, sync: false, minLength: 8 * 1024, mkdir: false });
const drained = async (destination: ReturnType<typeof sonicBoom>): Promise<void> => {
  await new Promise<void>((resolve, reject) => destination.flush((err) => (err ? reject(err) : resolve())));
  destination.end();
};

const ourAudit = (): Promise<number> =>
  auditCost('our audit log', (file) => {
    const log = new OurAuditLog(file);
    return { record: (i) => log.record(event(i)), finish: () => log.close() };
  });

const pinoAudit = (): Promise<number> =>
  auditCost('pino', (file) => {
    const destination = sonicBoom(file);
    const log = pino(
      { base: null, timestamp: false, formatters: { level: () => ({ time: new Date().toISOString() }) }, hooks: { streamWrite: redact } },
      destination,
    );
    return { record: (i) => log.info(event(i)), finish: () => drained(destination) };
  });

/** pino's asynchronous destination (sonic-boom) as the writer, the lines made as ours are. */
const pinoDestinationAudit = (): Promise<number> =>
  auditCost('the pino destination', (file) => {
    const destination = sonicBoom(file);
    return {
      record: (i) => destination.write(redact(JSON.stringify({ time: new Date().toISOString(), ...event(i) })) + '\n'),
      finish: () => drained(destination),
    };
  });

// A development CA with a server and a client certificate (what `flightgate certs dev` writes).
const SETS = 20;
async function ourCertificates(): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < SETS; i++) {
    const ca = ourIssue({ commonName: 'bench CA', kind: 'ca', validDays: 30 });
    ourIssue({ commonName: 'localhost', kind: 'server', altNames: ['localhost', '127.0.0.1', '::1'], validDays: 30 }, ca);
    ourIssue({ commonName: 'client', kind: 'client', validDays: 30 }, ca);
  }
  return (performance.now() - start) / SETS;
}

async function libraryCertificates(): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < SETS; i++) {
    const ca = await libraryIssue({ commonName: 'bench CA', kind: 'ca', validDays: 30 });
    await libraryIssue({ commonName: 'localhost', kind: 'server', altNames: ['localhost', '127.0.0.1', '::1'], validDays: 30 }, ca);
    await libraryIssue({ commonName: 'client', kind: 'client', validDays: 30 }, ca);
  }
  return (performance.now() - start) / SETS;
}

const JOBS: Job[] = [
  { name: 'metrics per call (prom-client vs ours)', unit: 'ns CPU per call', ours: () => metricCallCost(ourMetrics), library: () => metricCallCost(promMetrics) },
  { name: 'metrics scrape (prom-client vs ours)', unit: 'µs CPU per scrape', ours: () => scrapeCost(ourMetrics), library: () => scrapeCost(promMetrics) },
  { name: 'audit line (pino logger vs ours)', unit: 'µs CPU per event', ours: ourAudit, library: pinoAudit },
  { name: 'audit line (pino destination with our lines vs ours)', unit: 'µs CPU per event', ours: ourAudit, library: pinoDestinationAudit },
  { name: 'dev certificates (@peculiar/x509 vs ours)', unit: 'ms per CA + server + client', ours: ourCertificates, library: libraryCertificates },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

for (const job of JOBS) {
  const ours: number[] = [];
  const library: number[] = [];
  await job.ours(); // warm-up, both
  await job.library();
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always runs on a warmer machine.
    const pair = round % 2 ? [job.library, job.ours] : [job.ours, job.library];
    const [a, b] = [await pair[0]!(), await pair[1]!()];
    const [o, l] = round % 2 ? [b, a] : [a, b];
    ours.push(o);
    library.push(l);
    console.log(JSON.stringify({ bench: 'library-choices', job: job.name, round, unit: job.unit, ours: +o.toFixed(3), library: +l.toFixed(3) }));
  }
  const ratios = library.map((l, i) => l / ours[i]!);
  console.log(
    JSON.stringify({
      bench: 'library-choices',
      summary: true,
      job: job.name,
      unit: job.unit,
      ours: +median(ours).toFixed(3),
      library: +median(library).toFixed(3),
      library_over_ours: +median(ratios).toFixed(2),
      per_round_min: +Math.min(...ratios).toFixed(2),
      per_round_max: +Math.max(...ratios).toFixed(2),
    }),
  );
}
