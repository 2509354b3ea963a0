/**
 * Metrics as plain data: what a media worker sends to the main thread, summed there with the main
 * thread's own metrics into one `/metrics` text. Counters and gauges add per label set (a gauge of
 * a worker counts that worker's share: calls, timers); histograms add bucket by bucket.
 */
export type MetricSnapshot =
  | { kind: 'counter' | 'gauge'; name: string; help: string; values: [string, number][] }
  | { kind: 'histogram'; name: string; help: string; buckets: number[]; counts: number[]; sum: number; count: number };

/** Sums several registries' snapshots, series by series; the first registry's order is kept. */
export function mergeSnapshots(registries: readonly MetricSnapshot[][]): MetricSnapshot[] {
  const out = new Map<string, MetricSnapshot>();
  for (const reg of registries) {
    for (const m of reg) {
      const have = out.get(m.name);
      if (!have) { out.set(m.name, structuredClone(m)); continue; }
      if (have.kind === 'histogram' && m.kind === 'histogram') {
        if (have.buckets.join() !== m.buckets.join()) continue; // same name, other buckets: a bug, keep the first
        m.counts.forEach((c, i) => { have.counts[i] += c; });
        have.sum += m.sum;
        have.count += m.count;
      } else if (have.kind !== 'histogram' && m.kind === have.kind) {
        const sums = new Map(have.values);
        for (const [k, v] of m.values) sums.set(k, (sums.get(k) ?? 0) + v);
        have.values = [...sums];
      }
    }
  }
  return [...out.values()];
}

/** Prometheus text exposition (format 0.0.4) of one metric, as Counter/Gauge/Histogram render it. */
export function renderSnapshot(m: MetricSnapshot): string {
  const lines = [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.kind}`];
  if (m.kind === 'histogram') {
    m.buckets.forEach((b, i) => lines.push(`${m.name}_bucket{le="${b}"} ${m.counts[i]}`));
    lines.push(`${m.name}_bucket{le="+Inf"} ${m.count}`);
    lines.push(`${m.name}_sum ${m.sum}`, `${m.name}_count ${m.count}`);
    return lines.join('\n');
  }
  if (m.values.length === 0) lines.push(`${m.name} 0`);
  for (const [k, v] of m.values) lines.push(`${m.name}${k} ${v}`);
  return lines.join('\n');
}
