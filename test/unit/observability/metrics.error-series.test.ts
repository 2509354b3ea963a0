import t from 'tap';
import { MetricsRegistry } from '../../../src/observability/metrics.js';

t.test('error(code) counts into fsbridge_errors_total{code}, the same series as inc({code})', async (t) => {
  const m = new MetricsRegistry();
  for (let i = 0; i < 3; i++) m.error('X_ONE');
  m.error('X_TWO');
  m.counter('fsbridge_errors_total', 'Errors by stable error code').inc({ code: 'X_ONE' });
  t.equal(m.errorCount('X_ONE'), 4);
  t.equal(m.errorCount('X_TWO'), 1);
  t.match(m.render(), /^fsbridge_errors_total\{code="X_ONE"\} 4$/m);
  t.match(m.render(), /^fsbridge_errors_total\{code="X_TWO"\} 1$/m);
});

t.test('a counter series keeps its label key', async (t) => {
  const m = new MetricsRegistry();
  const c = m.counter('c_total', 'test');
  const s = c.series({ b: '2', a: '1' });
  s.inc();
  s.inc(5);
  t.equal(c.get({ a: '1', b: '2' }), 6);
});
