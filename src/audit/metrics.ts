/**
 * Prometheus metrics on prom-client (what Node users expect, and what their dashboards and
 * exporters were written against), with the one thing flightgate adds: values read when scraped
 * from a source that may fail, shown as NaN rather than failing the whole scrape. Label values
 * come from short fixed sets (RPC names, status codes, authentication methods): nothing a caller
 * chooses becomes a label.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

export interface ScrapedValue {
  readonly name: string;
  readonly help: string;
  readonly read: () => number | Promise<number>;
  /** Fixed labels, e.g. `{ version: '1.2.0' }` for an info metric. */
  readonly labels?: Readonly<Record<string, string>>;
}

async function readOrNaN(read: () => number | Promise<number>): Promise<number> {
  try {
    return await read();
  } catch {
    return NaN;
  }
}

/**
 * The registry in the text exposition format. prom-client writes a NaN sample as `Nan`; the
 * format (and OpenMetrics, which is strict about it) spells it `NaN`.
 */
export async function exposition(registry: Registry): Promise<string> {
  return (await registry.metrics()).replace(/ Nan$/gm, ' NaN');
}

/** A gauge whose value is read at each scrape. */
export function scrapedGauge(registry: Registry, m: ScrapedValue): Gauge {
  const labels = m.labels ?? {};
  return new Gauge({
    name: m.name,
    help: m.help,
    labelNames: Object.keys(labels),
    registers: [registry],
    async collect() {
      this.set(labels, await readOrNaN(m.read));
    },
  });
}

/** A counter kept elsewhere (CPU time, say), read at each scrape; a failed read leaves it as it was. */
export function scrapedCounter(registry: Registry, m: ScrapedValue): Counter {
  let last = 0;
  return new Counter({
    name: m.name,
    help: m.help,
    registers: [registry],
    async collect() {
      const now = await readOrNaN(m.read);
      if (Number.isFinite(now) && now > last) {
        this.inc(now - last);
        last = now;
      }
    },
  });
}
