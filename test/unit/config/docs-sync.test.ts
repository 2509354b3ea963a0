import t from 'tap';
import { readFileSync } from 'node:fs';
import { describeDefault, schemaRows } from '../../../src/config/schema.js';
import { DOC_FILE } from './helpers.js';

/** Rows of the key tables under "## Keys": first cell `path`, third cell the default. */
function docRows(): Map<string, string> {
  const text = readFileSync(DOC_FILE, 'utf8');
  const start = text.indexOf('\n## Keys');
  if (start < 0) throw new Error('docs/configuration.md has no "## Keys" section');
  const rows = new Map<string, string>();
  for (const line of text.slice(start).split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|(.*)$/.exec(line);
    if (!m) continue;
    // Split on cell bars that are not escaped (enum types are written a \| b).
    const cells = m[2].split(/(?<!\\)\|/).map((c) => c.trim());
    if (rows.has(m[1])) throw new Error(`docs/configuration.md lists ${m[1]} twice`);
    rows.set(m[1], cells[1].replace(/`/g, ''));
  }
  return rows;
}

t.test('every schema key is documented and every documented key exists', (t) => {
  const documented = docRows();
  const schema = schemaRows();
  const schemaPaths = new Set(schema.map((r) => r.path));
  const missing = schema.map((r) => r.path).filter((p) => !documented.has(p));
  const extra = [...documented.keys()].filter((p) => !schemaPaths.has(p));
  t.same(missing, [], 'schema keys missing from docs/configuration.md');
  t.same(extra, [], 'keys in docs/configuration.md that the schema does not have');
  t.ok(schema.length > 60, 'the walk found the whole schema');
  t.end();
});

t.test('documented defaults match the schema', (t) => {
  const documented = docRows();
  for (const r of schemaRows()) {
    const doc = documented.get(r.path);
    if (doc === undefined) continue;
    t.equal(doc, describeDefault(r.node), `default of ${r.path}`);
  }
  t.end();
});
