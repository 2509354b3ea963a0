// The call history's query string: what is accepted, what is refused with a named problem.
import t from 'tap';
import { decodeCursor, encodeCursor, matchesLive, parseCallFilter } from '../../../src/store/call-filter.js';
import { csvCell, csvHeader, csvRow } from '../../../src/store/csv.js';
import { orphanEnd } from '../../../src/store/call-rows.js';

t.test('filters', (t) => {
  const ok = parseCallFilter('from=%2B441234&to=8100&bot=sales&cause=USER_BUSY&direction=inbound&state=ended&since=2026-12-07&until=2026-12-07T12:00:00%2B01:00&limit=50&format=csv');
  t.ok(ok.ok);
  if (ok.ok) {
    t.match(ok.filter, { from: '+441234', to: '8100', bot: 'sales', cause: 'USER_BUSY', direction: 'inbound', state: 'ended', limit: 50, format: 'csv' });
    t.equal(ok.filter.sinceMs, Date.parse('2026-12-07T00:00:00Z'), 'a date is midnight UTC');
    t.equal(ok.filter.untilMs, Date.parse('2026-12-07T11:00:00Z'), 'an offset is honoured');
  }
  const d = parseCallFilter('');
  t.same(d, { ok: true, filter: { limit: 100, format: 'json' } }, 'defaults');
  const local = parseCallFilter('since=2026-12-07T10:00');
  t.equal(local.ok && local.filter.sinceMs, Date.parse('2026-12-07T10:00:00Z'), 'a time without zone is UTC');
  t.end();
});

t.test('refused, each with its problem named', (t) => {
  const bad: [string, RegExp][] = [
    ['nope=1', /nope: unknown filter/],
    ['from=1&from=2', /from: given more than once/],
    [`from=${'9'.repeat(129)}`, /from: longer than 128/],
    ['from=', /from: expected a non-empty value/],
    ['bot=a%00b', /bot: expected a non-empty value without control characters/],
    ['direction=sideways', /direction: expected inbound or outbound/],
    ['state=dead', /state: expected live or ended/],
    ['format=xml', /format: expected json or csv/],
    ['since=yesterday', /since: expected an ISO 8601/],
    ['until=2026-13-45', /until: expected an ISO 8601/],
    ['limit=0', /limit: expected an integer from 1 to 1000/],
    ['limit=1001', /limit: expected an integer/],
    ['limit=1e3', /limit: expected an integer/],
    ['cursor=abc', /cursor: not a cursor/],
    [`cursor=${'A'.repeat(300)}`, /cursor: longer than 256/],
  ];
  for (const [q, re] of bad) {
    const r = parseCallFilter(q);
    t.notOk(r.ok, q.slice(0, 40));
    if (!r.ok) t.match(r.problems.join('; '), re);
  }
  t.end();
});

t.test('cursors round-trip and refuse forgeries', (t) => {
  const c = { offeredAtMs: 1_765_100_000_000, callId: 'a-b' };
  t.same(decodeCursor(encodeCursor(c)), c);
  t.equal(decodeCursor(Buffer.from('["x","y"]').toString('base64url')), null);
  t.equal(decodeCursor(Buffer.from('{"a":1}').toString('base64url')), null);
  t.equal(decodeCursor('!!'), null);
  t.end();
});

t.test('live calls are filtered by the same rules', (t) => {
  const c = { from: '+1555', to: '8100', bot: 'sales', tenant: 'acme', direction: 'inbound', offeredAt: '2026-12-07T10:00:00.000Z' };
  const f = (q: string) => { const r = parseCallFilter(q); if (!r.ok) throw new Error(); return r.filter; };
  t.ok(matchesLive(c, f('bot=sales&from=%2B1555')));
  t.notOk(matchesLive(c, f('bot=support')));
  t.notOk(matchesLive(c, f('since=2026-12-07T10:00:01Z')));
  t.notOk(matchesLive(c, f('cause=NORMAL_CLEARING')), 'a live call has no cause yet');
  t.end();
});

t.test('CSV cells', (t) => {
  t.equal(csvCell('+442071234567'), '+442071234567', 'a phone number stays as it is');
  t.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"', 'a formula is defused and quoted');
  t.equal(csvCell('+SUM(A1)'), "'+SUM(A1)");
  t.equal(csvCell('@cmd'), "'@cmd");
  t.equal(csvCell('a,b'), '"a,b"');
  t.equal(csvCell('line\nbreak'), '"line\nbreak"');
  t.equal(csvCell(null), '');
  t.equal(csvCell(0), '0');
  t.match(csvHeader(), /^callId,state,direction,bot,from,to,offeredAt,/);
  const row = csvRow({ callId: 'c1', state: 'ended', from: '+1', to: '2', bot: null, durationMs: 5 } as never);
  t.equal(row.split(',').length, csvHeader().split(',').length, 'every row has every column');
  t.end();
});

t.test('an orphan ends at the last heartbeat, never before its own times', (t) => {
  t.match(orphanEnd({ offered_at: 1000, answered_at: 1500, connected_at: 1600 }, 9000), { ended_at: 9000, duration_ms: 8000, billable_ms: 7500, ended_by: 'fsbridge', error_code: 'CALL_DAEMON_CRASHED' });
  t.match(orphanEnd({ offered_at: 1000, answered_at: 1500, connected_at: 1600 }, 500), { ended_at: 1600, duration_ms: 600, billable_ms: 100 });
  t.match(orphanEnd({ offered_at: 1000, answered_at: null, connected_at: null }, null), { ended_at: 1000, duration_ms: 0, billable_ms: 0 });
  t.end();
});
