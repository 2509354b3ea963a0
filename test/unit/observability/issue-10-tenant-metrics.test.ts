// Issue 10: GET /v1/metrics for a tenant's key shows that tenant's series only.
import t from 'tap';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { metricsOfTenant } from '../../../src/observability/tenant-metrics.js';

t.test('a tenant\'s share of the metrics', async (t) => {
  const m = new MetricsRegistry();
  m.counter('fsbridge_tenant_calls_total', 'Calls admitted, by tenant').inc({ tenant: 'acme', direction: 'inbound' }, 3);
  m.counter('fsbridge_tenant_calls_total', 'Calls admitted, by tenant').inc({ tenant: 'acme-2', direction: 'inbound' });
  m.counter('fsbridge_tenant_calls_total', 'Calls admitted, by tenant').inc({ direction: 'outbound', tenant: 'globex' });
  m.gauge('fsbridge_tenant_active_calls', 'Calls currently live, by tenant').set(0, { tenant: 'globex' });
  m.gauge('fsbridge_active_calls', 'Calls currently live').set(4);
  m.counter('fsbridge_errors_total', 'Errors').inc({ code: 'X' });
  const text = await m.renderAll();
  t.equal(metricsOfTenant(text, 'acme'), [
    '# HELP fsbridge_tenant_calls_total Calls admitted, by tenant',
    '# TYPE fsbridge_tenant_calls_total counter',
    'fsbridge_tenant_calls_total{direction="inbound",tenant="acme"} 3',
    '',
  ].join('\n'), 'its own series, not a tenant whose name starts the same, nothing of the daemon');
  t.match(metricsOfTenant(text, 'globex'), /fsbridge_tenant_calls_total\{direction="outbound",tenant="globex"\} 1\n[^]*fsbridge_tenant_active_calls\{tenant="globex"\} 0\n$/, 'a gauge at 0 too');
  t.equal(metricsOfTenant(text, 'nobody'), '', 'a tenant without series sees nothing');
});
