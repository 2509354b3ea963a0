/**
 * A small Prometheus metrics registry (text exposition format 0.0.4). Passed to every part that
 * counts something; never a global. Label sets are fixed per metric at creation.
 */
import { mergeSnapshots, renderSnapshot, type MetricSnapshot } from './metric-snapshot.js';

export type { MetricSnapshot };
export type Labels = Record<string, string>;


function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',') + '}';
}
/** A label value as the Prometheus text writes it. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** One label set of a {@link Counter}. */
export interface CounterSeries {
  inc(by?: number): void;
}

export class Counter {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels?: Labels): number { return this.values.get(labelKey(labels)) ?? 0; }
  snapshot(): MetricSnapshot { return { kind: 'counter', name: this.name, help: this.help, values: [...this.values] }; }
  /** A handle on one label set, whose key is computed once: its inc() allocates nothing (hot paths). */
  series(labels?: Labels): CounterSeries {
    const k = labelKey(labels);
    return { inc: (by = 1) => { this.values.set(k, (this.values.get(k) ?? 0) + by); } };
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

export class Gauge {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  set(v: number, labels?: Labels): void { this.values.set(labelKey(labels), v); }
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  dec(labels?: Labels, by = 1): void { this.inc(labels, -by); }
  get(labels?: Labels): number { return this.values.get(labelKey(labels)) ?? 0; }
  snapshot(): MetricSnapshot { return { kind: 'gauge', name: this.name, help: this.help, values: [...this.values] }; }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = new Array(buckets.length).fill(0);
  }
  /** Records one observation; allocation-free. */
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }
  getCount(): number { return this.count; }
  snapshot(): MetricSnapshot {
    return { kind: 'histogram', name: this.name, help: this.help, buckets: [...this.buckets], counts: [...this.counts], sum: this.sum, count: this.count };
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** Owns every metric of one daemon (or one test). Asking twice for a name returns the same metric. */
export class MetricsRegistry {
  private readonly collectors: (() => void)[] = [];
  private readonly remotes: (() => Promise<MetricSnapshot[][]>)[] = [];
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();
  /** One series per error code (a fixed set), so that counting an error allocates nothing. */
  private readonly errorSeries = new Map<string, CounterSeries>();
  counter(name: string, help: string): Counter {
    return this.getOrCreate(name, () => new Counter(name, help), Counter);
  }
  gauge(name: string, help: string): Gauge {
    return this.getOrCreate(name, () => new Gauge(name, help), Gauge);
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.getOrCreate(name, () => new Histogram(name, help, buckets), Histogram);
  }
  /** Counter `fsbridge_errors_total{code}`: every error code a part reports goes through here. */
  error(code: string): void {
    let s = this.errorSeries.get(code);
    if (!s) {
      s = this.counter('fsbridge_errors_total', 'Errors by stable error code').series({ code });
      this.errorSeries.set(code, s);
    }
    s.inc();
  }
  errorCount(code: string): number {
    return this.counter('fsbridge_errors_total', 'Errors by stable error code').get({ code });
  }
  /**
   * Registers a function that sets gauges from live state just before every render (sizes of maps,
   * pending timers): what a scrape sees is current, and nothing is updated on a hot path.
   */
  addCollector(fn: () => void): void {
    this.collectors.push(fn);
  }

  /**
   * Registers where more metrics of this daemon live (its media workers): their snapshots are
   * added to this registry's in {@link renderAll}, series by series.
   */
  addRemote(fn: () => Promise<MetricSnapshot[][]>): void {
    this.remotes.push(fn);
  }

  /** Every metric as plain data (collectors run first), for a worker to send to the main thread. */
  snapshot(): MetricSnapshot[] {
    for (const fn of this.collectors) fn();
    return [...this.metrics.values()].map((m) => m.snapshot());
  }

  /** Prometheus text of this registry's metrics summed with those of its remotes (`/metrics`). */
  async renderAll(): Promise<string> {
    if (this.remotes.length === 0) return this.render();
    return (await this.mergedAll()).map(renderSnapshot).join('\n') + '\n';
  }

  /** One series of a counter or gauge summed over this registry and its remotes (0 when absent). */
  async valueAll(name: string, labels?: Labels): Promise<number> {
    const m = (await this.mergedAll()).find((x) => x.name === name);
    if (!m || m.kind === 'histogram') return 0;
    return m.values.find(([k]) => k === labelKey(labels))?.[1] ?? 0;
  }

  private async mergedAll(): Promise<MetricSnapshot[]> {
    const remote = (await Promise.all(this.remotes.map((fn) => fn()))).flat();
    return mergeSnapshots([this.snapshot(), ...remote]);
  }

  /** Prometheus text exposition of every metric. */
  render(): string {
    for (const fn of this.collectors) fn();
    return [...this.metrics.values()].map((m) => m.render()).join('\n') + '\n';
  }
  private getOrCreate<T extends Counter | Gauge | Histogram>(
    name: string, make: () => T, kind: abstract new (...a: never[]) => T,
  ): T {
    const m = this.metrics.get(name);
    if (m) {
      if (!(m instanceof kind)) throw new Error(`metric ${name} registered with another type`);
      return m;
    }
    const created = make();
    this.metrics.set(name, created);
    return created;
  }
}
