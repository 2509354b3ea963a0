// Issue 9: media.workers is a thread count or `auto` (one per core); anything else is refused with
// a message that names both forms.
import t from 'tap';
import { loadConfig } from '../../../src/config/load.js';
import { MINIMAL } from './helpers.js';

const load = (workers: string) => loadConfig({ text: `${MINIMAL}media: { workers: ${workers} }\n`, env: {} });

t.test('auto, 0 and a count are accepted', (t) => {
  for (const [text, want] of [['auto', 'auto'], ['0', 0], ['3', 3], ['64', 64]] as const) {
    const r = load(text);
    t.ok(r.ok, text);
    if (r.ok) t.equal(r.config.media.workers, want, text);
  }
  const d = loadConfig({ text: MINIMAL, env: {} });
  t.equal(d.ok && d.config.media.workers, 'auto', 'default auto');
  t.end();
});

t.test('a negative count, too many, a fraction or another word is refused', (t) => {
  for (const text of ['-1', '65', '1.5', 'many', '"2"']) {
    const r = load(text);
    t.notOk(r.ok, text);
    if (!r.ok) t.match(r.errors[0], { path: 'media.workers', message: /an integer from 0 to 64, or auto/ }, text);
  }
  t.end();
});
