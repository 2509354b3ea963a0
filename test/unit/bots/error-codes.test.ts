import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BOT_ERRORS } from '../../../src/bots/error-codes.js';

const root = join(import.meta.dirname, '../../..');
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

t.test('every BOT_* code used in src/bots is declared, with meaning and consequence', async (t) => {
  const used = new Set<string>();
  for (const f of files(join(root, 'src/bots'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/'(BOT_[A-Z0-9_]+)'/g)) used.add(m[1]);
  }
  t.ok(used.size > 10);
  for (const code of used) t.ok(code in BOT_ERRORS, code);
  for (const [code, info] of Object.entries(BOT_ERRORS)) {
    t.match(code, /^BOT_[A-Z0-9_]+$/);
    t.ok(info.meaning.length > 0 && info.consequence.length > 0, code);
  }
});

t.test('every declared code is documented in docs/bot-protocols.md', async (t) => {
  const doc = readFileSync(join(root, 'docs/bot-protocols.md'), 'utf8');
  for (const code of Object.keys(BOT_ERRORS)) t.ok(doc.includes('`' + code + '`'), code);
});
