// The implementation flightgate used before this library replaced it; kept only as the baseline of bench/library-choices.mts.
/**
 * A small Prometheus registry: counters, gauges and histograms with labels, written in the text
 * exposition format (version 0.0.4). Label values come from short fixed sets (RPC names, status
 * codes, authentication methods): nothing a caller chooses becomes a label.
 */
type Labels = Readonly<Record<string, string>>;

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

const formatNumber = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

interface Metric {
  readonly name: string;
  render(): Promise<string> | string;
}

abstract class Labelled<T> implements Metric {
  protected readonly series = new Map<string, { values: string[]; data: T }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected entry(labels: Labels): T {
    const values = this.labelNames.map((n) => labels[n] ?? '');
    const key = values.join('\u0000');
    let e = this.series.get(key);
    if (!e) {
      e = { values, data: this.initial() };
      this.series.set(key, e);
    }
    return e.data;
  }

  protected abstract initial(): T;
  abstract render(): string | Promise<string>;
}

export class Counter extends Labelled<{ value: number }> {
  protected initial(): { value: number } {
    return { value: 0 };
  }

  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} counter`];
    for (const { values, data } of this.series.values()) lines.push(`${this.name}${labelText(this.labelNames, values)} ${formatNumber(data.value)}`);
    return lines.join('\n');
  }
}

/** A gauge read when scraped. */
/**
 * A value read when scraped: a gauge, or a counter kept elsewhere (CPU time). `name` may carry
 * fixed labels (`info{version="1"}`).
 */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number | Promise<number>,
    private readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}

  async render(): Promise<string> {
    let value: number;
    try {
      value = await this.read();
    } catch {
      value = NaN; // a backend that cannot answer shows as NaN rather than failing the scrape
    }
    const family = this.name.replace(/\{.*$/, '');
    return [`# HELP ${family} ${escapeHelp(this.help)}`, `# TYPE ${family} ${this.type}`, `${this.name} ${formatNumber(value)}`].join('\n');
  }
}

export class Histogram extends Labelled<{ counts: number[]; sum: number; count: number }> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
  }

  protected initial(): { counts: number[]; sum: number; count: number } {
    return { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  observe(labels: Labels, value: number): void {
    const e = this.entry(labels);
    e.sum += value;
    e.count++;
    // Cumulative counts are computed when rendering; here only the first bucket that holds it.
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) {
        e.counts[i]!++;
        break;
      }
    }
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`];
    for (const { values, data } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += data.counts[i]!;
        lines.push(`${this.name}_bucket${labelText(this.labelNames, values, `le="${formatNumber(le)}"`)} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${data.count}`);
      lines.push(`${this.name}_sum${labelText(this.labelNames, values)} ${formatNumber(data.sum)}`);
      lines.push(`${this.name}_count${labelText(this.labelNames, values)} ${data.count}`);
    }
    return lines.join('\n');
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  async render(): Promise<string> {
    const parts = await Promise.all(this.metrics.map((m) => m.render()));
    return parts.join('\n') + '\n';
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
