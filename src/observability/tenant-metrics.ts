import { escapeLabel } from './metrics.js';

/**
 * One tenant's share of the Prometheus text (`GET /v1/metrics` for a tenant's key): the series
 * labelled `tenant="<tenant>"` (counters and gauges; histograms have no tenant), with their
 * families' HELP and TYPE lines; nothing of the daemon or of another tenant. Pure.
 */
export function metricsOfTenant(text: string, tenant: string): string {
  const label = `tenant="${escapeLabel(tenant)}"`;
  const meta = new Map<string, string[]>();
  const kept = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (m) { (meta.get(m[1]) ?? meta.set(m[1], []).get(m[1])!).push(line); continue; }
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} /.exec(line);
    if (!s || !`,${s[2]},`.includes(`,${label},`)) continue;
    (kept.get(s[1]) ?? kept.set(s[1], []).get(s[1])!).push(line);
  }
  const out: string[] = [];
  for (const [family, lines] of kept) out.push(...(meta.get(family) ?? []), ...lines);
  return out.length ? `${out.join('\n')}\n` : '';
}
