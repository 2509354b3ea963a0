// Done-criterion of issue 11 (fake clock): a campaign of 1,000 contacts over several time zones,
// run across the US spring-forward change (2026-03-08), places no call outside any contact's
// calling window, respects every cap (concurrency, calls per second, per campaign per day, per
// number per day, the tenant's daily cap and the trunk's reserve) and the DNC lists (numbers added
// mid-run included), retries exactly per the rules, and its results export matches the call
// records one for one. The windows are checked here with Intl directly, not with the module the
// dialer uses.
import t from 'tap';
import { CampaignSim } from '../../helpers/campaign-sim.js';
import { eachBackend } from '../../helpers/store-backends.js';
import { DEFAULT_RETRY } from '../../../src/campaigns/retry-rules.js';
import { outcomeOf } from '../../../src/campaigns/outcome.js';

/** Area codes and the zone their numbers are in (libphonenumber's data, checked against Intl here). */
const AREAS = [
  { prefix: '+1212555', zone: 'America/New_York' },
  { prefix: '+1310555', zone: 'America/Los_Angeles' },
  { prefix: '+1808555', zone: 'Pacific/Honolulu' },
  { prefix: '+44207955', zone: 'Europe/London' },
  { prefix: '+4930901', zone: 'Europe/Berlin' },
  { prefix: '+6129374', zone: 'Australia/Sydney' },
  { prefix: '+8133123', zone: 'Asia/Tokyo' },
];

/** Local weekday (0 = Sunday), minutes after midnight and date of an instant in a zone, by Intl. */
function local(ms: number, zone: string): { day: number; minutes: number; date: string } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday);
  return { day, minutes: Number(parts.hour) * 60 + Number(parts.minute), date: `${parts.year}-${parts.month}-${parts.day}` };
}

const WINDOWS = [
  { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
  { days: ['sat'], start: '10:00', end: '13:00' },
];
const HOLIDAY = '2026-03-10';
function inWindow(ms: number, zone: string): boolean {
  const l = local(ms, zone);
  if (l.date === HOLIDAY) return false;
  if (l.day >= 1 && l.day <= 5) return l.minutes >= 540 && l.minutes < 1020;
  if (l.day === 6) return l.minutes >= 600 && l.minutes < 780;
  return false;
}

t.test('1,000 contacts, six zones, a DST change: windows, caps, DNC and retries hold; the export matches the records', (t) => eachBackend(t, async (t, b) => {
  const CONTACTS = b.name === 'sqlite' ? 1000 : 300;
  const db = await b.fresh(t);
  const sim = await new CampaignSim({ url: db.url, password: db.password, startIso: '2026-03-06T00:00:00Z', trunkSlots: 24, tenantCallsPerDay: 700 }).open();
  t.teardown(() => sim.close());

  // contacts: numbers of several zones, a few with their own zone, some invalid, some given twice
  const contacts: Record<string, unknown>[] = [];
  const zoneOf = new Map<string, string>();
  for (let i = 0; i < CONTACTS; i++) {
    const a = AREAS[i % AREAS.length];
    const number = `${a.prefix}${String(1000 + i).padStart(4, '0').slice(-4)}`;
    const own = i % 50 === 7 ? 'America/Chicago' : undefined;
    zoneOf.set(number, own ?? a.zone);
    contacts.push({ number, ...(own ? { timeZone: own } : {}), vars: { name: `person ${i}` } });
  }
  contacts.push({ number: contacts[3].number as string }, { number: 'not a number' });
  const dncBefore = [contacts[10].number, contacts[11].number, contacts[12].number] as string[];
  await sim.dnc.add('acme', dncBefore.slice(0, 2), 'api', sim.clock.wallMs());
  await sim.dnc.add('*', dncBefore.slice(2), 'api', sim.clock.wallMs());

  const created = await sim.service.create({
    name: 'spring', bot: 'bot', trunk: 'trunk', timeZone: 'UTC', windows: WINDOWS.map((w) => ({ ...w, holidays: [HOLIDAY] })),
    pacing: { maxConcurrent: 20, callsPerSecond: 2, reserveSlots: 2 },
    retry: { 'busy': { delaySec: 900, maxAttempts: 3 }, 'no-answer': { delaySec: 3600, maxAttempts: 2 } },
    caps: { perDay: 500, perNumberPerDay: 2 },
    contacts,
  }, null);
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.match(created.body, { contacts: CONTACTS + 1, duplicates: 1, invalid: 1 }, 'the duplicate is dropped, the invalid number kept as such');
  const id = created.body.id as string;

  // numbers added to the DNC list mid-run: the dialer must not call them afterwards
  const addedMid = new Map<string, number>();
  const midRun = async () => {
    const pending = (await sim.campaigns.contactsPage(id, { state: 'pending', afterSeq: -1, limit: 1000 })).slice(0, 25).map((p) => p.contact.number);
    await sim.dnc.add('acme', pending, 'api', sim.clock.wallMs());
    for (const n of pending) addedMid.set(n, sim.clock.wallMs());
  };
  await sim.runUntil('2026-03-14T00:00:00Z', [{ atIso: '2026-03-06T15:00:00Z', run: midRun }]);

  const placed = sim.placed;
  t.ok(placed.length > CONTACTS, `${placed.length} calls placed`);
  // windows
  const outside = placed.filter((p) => !inWindow(p.atMs, zoneOf.get(p.d.to)!));
  t.same(outside.map((p) => [p.d.to, new Date(p.atMs).toISOString()]), [], 'no call outside its contact\'s window (local time by Intl)');
  t.notOk(placed.some((p) => local(p.atMs, zoneOf.get(p.d.to)!).date === HOLIDAY), 'nobody is called on the holiday');

  // caps
  t.ok(sim.maxLive <= 20, `at most 20 calls at once (max ${sim.maxLive})`);
  t.ok(sim.maxLive <= 24 - 2, 'the trunk\'s last 2 slots were never taken');
  const starts = placed.map((p) => p.atMs).sort((x, y) => x - y);
  let fastest = Infinity;
  let busiest = 0;
  for (let i = 1, j = 0; i < starts.length; i++) {
    fastest = Math.min(fastest, starts[i] - starts[i - 1]);
    while (starts[i] - starts[j] >= 10_000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  // starts keep a 500 ms grid (a late one does not push the next back), never closer than half of it
  t.ok(busiest <= 21, `calls at 2 per second: at most 21 starts in any 10 s (busiest: ${busiest})`);
  t.ok(fastest >= 250, `no two starts closer than half the interval (closest: ${fastest} ms)`);
  const perDay = new Map<string, number>();
  const perNumberDay = new Map<string, number>();
  for (const p of placed) {
    const day = new Date(p.atMs).toISOString().slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
    perNumberDay.set(`${day}/${p.d.to}`, (perNumberDay.get(`${day}/${p.d.to}`) ?? 0) + 1);
  }
  t.ok(Math.max(...perDay.values()) <= 500, `the campaign's daily cap holds (max ${Math.max(...perDay.values())} a day)`);
  t.ok(Math.max(...perNumberDay.values()) <= 2, 'no number called more than twice a day');

  // DNC
  const called = new Set(placed.map((p) => p.d.to));
  t.notOk(dncBefore.some((n) => called.has(n)), 'numbers on the tenant\'s or the global list are never called');
  const afterAdd = placed.filter((p) => addedMid.has(p.d.to) && p.atMs > addedMid.get(p.d.to)!);
  t.same(afterAdd.map((p) => p.d.to), [], 'numbers added mid-run are not called afterwards');
  t.ok(addedMid.size > 0, `${addedMid.size} numbers were added mid-run`);

  // retries exactly per the rules, in order, with their delays
  const byNumber = new Map<string, typeof placed>();
  for (const p of placed) byNumber.set(p.d.to, [...(byNumber.get(p.d.to) ?? []), p]);
  const rules = { ...DEFAULT_RETRY, 'busy': { delaySec: 900, maxAttempts: 3 }, 'no-answer': { delaySec: 3600, maxAttempts: 2 } };
  const wrong: string[] = [];
  for (const [n, calls] of byNumber) {
    calls.forEach((c, i) => {
      if (Number(c.d.params.campaignAttempt) !== i + 1) wrong.push(`${n}: attempt ${c.d.params.campaignAttempt} was call ${i + 1}`);
      if (i === 0) return;
      const prev = calls[i - 1];
      const o = outcomeOf(prev.facts);
      if (o === 'completed' || o === 'invalid-number') wrong.push(`${n}: called again after ${o}`);
      else if (i >= rules[o].maxAttempts) wrong.push(`${n}: attempt ${i + 1} after ${o} (max ${rules[o].maxAttempts})`);
      else if (c.atMs - prev.endsAtMs < rules[o].delaySec * 1000) wrong.push(`${n}: retried ${(c.atMs - prev.endsAtMs) / 1000} s after ${o}`);
    });
  }
  t.same(wrong.slice(0, 10), [], 'every retry follows the rules');

  // final states
  const counts = await sim.campaigns.counts(id);
  t.notOk(counts.dialling, 'no contact left dialling');
  t.equal(counts.dnc, 3 + (counts.dnc - 3), `DNC contacts ended as dnc (${counts.dnc})`);
  t.ok(counts.dnc >= 3);
  t.equal(counts.invalid >= 1, true, 'the invalid number ended invalid without a call');
  t.notOk(called.has('not a number'));

  // the export matches the call records one for one
  const rows: Record<string, unknown>[] = [];
  for await (const r of (await sim.service.exportRows(id, null))!) rows.push(r);
  const attemptRows = rows.filter((r) => r.callId !== null);
  t.equal(attemptRows.length, placed.length, 'one export row per call placed');
  const records = new Map((await sim.store.db.selectFrom('calls').selectAll().execute()).map((r) => [r.call_id, r]));
  const mismatched = attemptRows.filter((r) => {
    const rec = records.get(String(r.callId));
    return !rec || rec.to_number !== r.number || rec.cause !== r.callCause || r.outcome !== outcomeOf({
      result: rec.result, sipStatus: rec.sip_status, answeredAt: rec.answered_at, connectedAt: rec.connected_at, cause: rec.cause, errorCode: rec.error_code,
    });
  });
  t.same(mismatched.slice(0, 5), [], 'each attempt row has its call\'s record, and the outcome the record says');
  t.equal(records.size, placed.length, 'and there is no call record without its row');
  t.comment(`placed ${placed.length} calls; contacts ${JSON.stringify(counts)}`);
}));

t.test('pause stops new calls, resume goes on, cancel ends the pending contacts', async (t) => {
  const dir = t.testdir();
  const sim = await new CampaignSim({ url: `sqlite:${dir}/f.db`, startIso: '2026-06-01T12:00:00Z', trunkSlots: 10 }).open();
  t.teardown(() => sim.close());
  const created = await sim.service.create({
    name: 'c', bot: 'bot', trunk: 'trunk', pacing: { maxConcurrent: 2, callsPerSecond: 1 },
    contacts: Array.from({ length: 40 }, (_, i) => `+44207955${String(1000 + i)}`),
  }, null);
  const id = created.body.id as string;
  await sim.runUntil('2026-06-01T12:00:30Z');
  const before = sim.placed.length;
  t.ok(before > 0);
  t.equal((await sim.service.control(id, 'pause', null)).status, 200);
  t.equal((await sim.service.control(id, 'pause', null)).status, 409, 'pausing a paused campaign is a conflict');
  await sim.runUntil('2026-06-01T13:00:00Z');
  t.equal(sim.placed.length, before, 'no call placed while paused');
  t.equal((await sim.service.control(id, 'resume', null)).status, 200);
  await sim.runUntil('2026-06-01T13:00:20Z');
  t.ok(sim.placed.length > before, 'calls again once resumed');
  const r = await sim.service.control(id, 'cancel', null);
  t.equal(r.status, 200);
  const n = sim.placed.length;
  await sim.runUntil('2026-06-02T13:00:00Z');
  t.equal(sim.placed.length, n, 'nothing placed after cancel');
  const counts = await sim.campaigns.counts(id);
  t.ok(counts.cancelled > 0 && !counts.pending && !counts.dialling, JSON.stringify(counts));
  t.same(sim.events.map((e) => e.event).filter((e) => e.startsWith('campaign.')), ['campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.cancelled']);
  t.ok(sim.events.some((e) => e.event === 'contact.finished' && e.contact?.state === 'cancelled'), 'a contact whose call ended after the cancel is cancelled, not retried');
});

t.test('across both DST changes the first call of the week is at 09:00 local time', async (t) => {
  const cases = [
    // spring forward in New York on Sunday 2026-03-08: Monday 09:00 EDT is 13:00 UTC (Friday's was 14:00)
    { zone: 'America/New_York', prefix: '+1212555', start: '2026-03-07T00:00:00Z', first: '2026-03-09T13:00:00.000Z' },
    // fall back in Berlin on Sunday 2026-10-25: Monday 09:00 CET is 08:00 UTC (Friday's was 07:00)
    { zone: 'Europe/Berlin', prefix: '+4930901', start: '2026-10-24T00:00:00Z', first: '2026-10-26T08:00:00.000Z' },
    // and the other way round: New York falls back on 2026-11-01, Berlin springs forward on 2026-03-29
    { zone: 'America/New_York', prefix: '+1212555', start: '2026-10-31T00:00:00Z', first: '2026-11-02T14:00:00.000Z' },
    { zone: 'Europe/Berlin', prefix: '+4930901', start: '2026-03-28T00:00:00Z', first: '2026-03-30T07:00:00.000Z' },
  ];
  for (const c of cases) {
    const sim = await new CampaignSim({ url: `sqlite:${t.testdir()}/${c.start.slice(0, 10)}-${c.zone.replace('/', '-')}.db`, startIso: c.start, trunkSlots: 10 }).open();
    const r = await sim.service.create({
      name: 'dst', bot: 'bot', trunk: 'trunk', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }],
      pacing: { maxConcurrent: 5, callsPerSecond: 1 }, contacts: Array.from({ length: 5 }, (_, i) => `${c.prefix}${1000 + i}`),
    }, null);
    t.equal(r.status, 201);
    await sim.runUntil(new Date(Date.parse(c.first) + 3_600_000).toISOString());
    const firsts = sim.placed.map((p) => new Date(p.atMs).toISOString());
    t.equal(firsts[0], c.first, `${c.zone} from ${c.start}: first call at ${c.first}`);
    t.notOk(sim.placed.some((p) => !inWindow(p.atMs, c.zone)), 'and none outside the window');
    await sim.close();
  }
});

t.test('two campaigns of a tenant share its capacity fairly; the tenant\'s per-number cap spans both', async (t) => {
  const sim = await new CampaignSim({
    url: `sqlite:${t.testdir()}/f.db`, startIso: '2026-06-01T08:00:00Z', trunkSlots: 10, numberCap: 1,
    farEnd: () => ({ kind: 'answer', seconds: 60 }),
  }).open();
  t.teardown(() => sim.close());
  const numbers = (from: number) => Array.from({ length: 300 }, (_, i) => `+4930901${String(from + i).padStart(4, '0')}`);
  const a = await sim.service.create({ name: 'a', bot: 'bot', trunk: 'trunk', pacing: { maxConcurrent: 10, callsPerSecond: 5 }, contacts: numbers(1000) }, null);
  // b shares its first 50 numbers with a: the tenant's cap of 1 call a day per number holds across both
  const b = await sim.service.create({ name: 'b', bot: 'bot', trunk: 'trunk', pacing: { maxConcurrent: 10, callsPerSecond: 5 }, contacts: numbers(1250) }, null);
  await sim.runUntil('2026-06-01T08:30:00Z');
  const of = (id: unknown) => sim.placed.filter((p) => p.d.campaignId === id).length;
  const na = of(a.body.id);
  const nb = of(b.body.id);
  t.ok(na + nb > 100, `${na + nb} calls in 30 minutes`);
  t.ok(Math.abs(na - nb) <= Math.max(4, (na + nb) * 0.1), `the trunk's 10 slots are shared: ${na} and ${nb} calls`);
  t.ok(sim.maxLive <= 10);
  await sim.runUntil('2026-06-01T23:59:00Z');
  const perNumber = new Map<string, number>();
  for (const p of sim.placed) perNumber.set(p.d.to, (perNumber.get(p.d.to) ?? 0) + 1);
  t.equal(Math.max(...perNumber.values()), 1, 'no number called twice in the day, across both campaigns');
  t.equal(perNumber.size, 550, 'every number called once');
  await sim.runUntil('2026-06-02T12:00:00Z');
  t.ok(sim.placed.length > 550, 'the shared numbers are called the next day by the other campaign');
  t.same(sim.events.filter((e) => e.event === 'campaign.completed').map((e) => e.campaignId).sort(), [a.body.id, b.body.id].sort(), 'both complete');
});

t.test('5,000 contacts whose window is closed are held back zone by zone, not one by one', async (t) => {
  // Wednesday: the window opens on Sunday only
  const sim = await new CampaignSim({ url: `sqlite:${t.testdir()}/f.db`, startIso: '2026-06-03T12:00:00Z', trunkSlots: 10 }).open();
  t.teardown(() => sim.close());
  const contacts = Array.from({ length: 5000 }, (_, i) => `${AREAS[i % 3].prefix}${String(i).padStart(4, '0')}`);
  const r = await sim.service.create({
    name: 'sunday', bot: 'bot', trunk: 'trunk', windows: [{ days: ['sun'], start: '10:00', end: '12:00' }],
    pacing: { maxConcurrent: 5, callsPerSecond: 5 }, contacts,
  }, null);
  t.equal(r.status, 201);
  const id = r.body.id as string;
  await sim.runUntil('2026-06-03T12:01:00Z');
  t.same(await sim.campaigns.due(id, sim.clock.wallMs(), 10), [], 'after a minute no contact is due: each zone was held back at once');
  t.equal(sim.placed.length, 0, 'and none was called');
  const rows = await sim.store.db.selectFrom('campaign_contacts').select(['due_at', 'time_zone']).where('campaign_id', '=', id).execute();
  const firstDue = new Map<string, number>();
  for (const c of rows) firstDue.set(String(c.time_zone), Math.min(firstDue.get(String(c.time_zone)) ?? Infinity, Number(c.due_at)));
  t.same(Object.fromEntries([...firstDue].map(([z, at]) => [z, new Date(at).toISOString()])), {
    'America/New_York': '2026-06-07T14:00:00.000Z', 'America/Los_Angeles': '2026-06-07T17:00:00.000Z', 'Pacific/Honolulu': '2026-06-07T20:00:00.000Z',
  }, 'each zone waits for its own Sunday 10:00');
  await sim.runUntil('2026-06-07T14:05:00Z');
  t.ok(sim.placed.length > 0 && sim.placed.every((p) => p.d.to.startsWith('+1212')), 'on Sunday New York is called first');
});

t.test('a call the daemon refuses to place after its attempt was stored is undone: no try is lost', async (t) => {
  let refusals = 3;
  const sim = await new CampaignSim({
    url: `sqlite:${t.testdir()}/f.db`, startIso: '2026-06-01T12:00:00Z', trunkSlots: 10,
    refuse: () => refusals-- > 0, farEnd: () => ({ kind: 'busy', seconds: 1 }),
  }).open();
  t.teardown(() => sim.close());
  const r = await sim.service.create({ name: 'r', bot: 'bot', trunk: 'trunk', pacing: { maxConcurrent: 1, callsPerSecond: 1 }, retry: { busy: { delaySec: 60, maxAttempts: 2 } }, contacts: ['+4930901820'] }, null);
  await sim.runUntil('2026-06-01T12:10:00Z');
  t.equal(sim.refused.length, 3, 'refused three times');
  t.same(sim.placed.map((p) => p.d.params.campaignAttempt), ['1', '2'], 'then placed as attempts 1 and 2, as if the refusals never were');
  const [c] = await sim.campaigns.contactsPage(r.body.id as string, { afterSeq: -1, limit: 1 });
  t.match(c.contact, { state: 'exhausted', attempts: 2 });
  t.same(c.attempts.map((a) => a.outcome), ['not-placed', 'not-placed', 'not-placed', 'busy', 'busy'], 'the refusals are kept as not-placed attempts');
});

t.test('a campaign paused through another node starts no new attempt here, and the sweep follows it', async (t) => {
  const sim = await new CampaignSim({ url: `sqlite:${t.testdir()}/f.db`, startIso: '2026-06-01T12:00:00Z', trunkSlots: 10, farEnd: () => ({ kind: 'answer', seconds: 5 }) }).open();
  t.teardown(() => sim.close());
  const r = await sim.service.create({ name: 'x', bot: 'bot', trunk: 'trunk', pacing: { maxConcurrent: 2, callsPerSecond: 1 }, contacts: Array.from({ length: 100 }, (_, i) => `+4930901${1000 + i}`) }, null);
  const id = r.body.id as string;
  await sim.runUntil('2026-06-01T12:00:20Z');
  const before = sim.placed.length;
  t.ok(before > 0);
  // another node pauses it: this dialer is not told
  await sim.campaigns.setState(id, ['running'], 'paused', sim.clock.wallMs());
  await sim.runUntil('2026-06-01T12:00:50Z');
  t.equal(sim.placed.length, before, 'no attempt begins once the campaign is paused in the store');
  t.equal(sim.dialer.counts(id)?.pending, 100 - before, 'the contacts stay pending');
  await sim.campaigns.setState(id, ['paused'], 'running', sim.clock.wallMs());
  await sim.runUntil('2026-06-01T12:03:00Z');
  t.ok(sim.placed.length > before, 'running again in the store: calls go on');
});
