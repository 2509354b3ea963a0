import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOG, renderErrorsDoc } from '../../src/error-catalog.js';

t.test('docs/errors.md lists exactly the codes of the catalog', async (t) => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  t.equal(doc, renderErrorsDoc(), 'docs/errors.md is out of date: run npm run docs:errors');
});

t.test('codes are unique across areas and well-formed', async (t) => {
  const seen = new Set<string>();
  for (const { table } of ERROR_CATALOG) {
    for (const [code, info] of Object.entries(table)) {
      t.notOk(seen.has(code), `${code} is declared once`);
      seen.add(code);
      t.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
      t.ok(info.meaning.length > 10 && info.consequence.length > 3, `${code} has a meaning and a consequence`);
    }
  }
});
