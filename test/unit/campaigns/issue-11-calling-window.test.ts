import t from 'tap';
import fc from 'fast-check';
import { closesAt, isOpen, isTimeZone, nextOpen, parseWindows, type CallingWindow } from '../../../src/campaigns/calling-window.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
};
const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6];
const WEEKDAYS = [1, 2, 3, 4, 5];
const nineToFive: CallingWindow[] = [{ days: WEEKDAYS, start: '09:00', end: '17:00' }];

/** Counts the open minutes in [fromMs, toMs), sampling each minute's first millisecond. */
function openMinutes(windows: readonly CallingWindow[], tz: string, fromMs: number, toMs: number): number {
  let n = 0;
  for (let m = fromMs; m < toMs; m += MIN) if (isOpen(windows, tz, m)) n++;
  return n;
}

t.test('exact boundaries of 09:00-17:00 on Wednesday 2026-06-17 in several zones', (t) => {
  // The UTC instants of local 09:00 and 17:00, written out by hand from each zone's June offset.
  const cases: [string, string, string][] = [
    ['America/New_York', '2026-06-17T13:00:00Z', '2026-06-17T21:00:00Z'], // EDT -4
    ['Europe/Berlin', '2026-06-17T07:00:00Z', '2026-06-17T15:00:00Z'], // CEST +2
    ['Asia/Kolkata', '2026-06-17T03:30:00Z', '2026-06-17T11:30:00Z'], // +5:30
    ['Asia/Kathmandu', '2026-06-17T03:15:00Z', '2026-06-17T11:15:00Z'], // +5:45
    ['Australia/Sydney', '2026-06-16T23:00:00Z', '2026-06-17T07:00:00Z'], // AEST +10: Tuesday in UTC
    ['Pacific/Chatham', '2026-06-16T20:15:00Z', '2026-06-17T04:15:00Z'], // +12:45
    ['America/St_Johns', '2026-06-17T11:30:00Z', '2026-06-17T19:30:00Z'], // NDT -2:30
    ['UTC', '2026-06-17T09:00:00Z', '2026-06-17T17:00:00Z'],
  ];
  for (const [tz, openIso, closeIso] of cases) {
    const open = at(openIso), close = at(closeIso);
    t.equal(isOpen(nineToFive, tz, open - 1), false, `${tz} 08:59:59.999 closed`);
    t.equal(isOpen(nineToFive, tz, open), true, `${tz} 09:00:00.000 open`);
    t.equal(isOpen(nineToFive, tz, close - 1), true, `${tz} 16:59:59.999 open`);
    t.equal(isOpen(nineToFive, tz, close), false, `${tz} 17:00:00.000 closed`);
    t.equal(nextOpen(nineToFive, tz, open - 1), open, `${tz} nextOpen from 08:59:59.999 is 09:00`);
    t.equal(nextOpen(nineToFive, tz, open - 6 * HOUR), open, `${tz} nextOpen from 03:00 is 09:00`);
    t.equal(nextOpen(nineToFive, tz, open + HOUR), open + HOUR, `${tz} nextOpen while open is now`);
    t.equal(closesAt(nineToFive, tz, open), close, `${tz} closesAt from 09:00`);
    t.equal(closesAt(nineToFive, tz, close - 1), close, `${tz} closesAt from 16:59:59.999`);
    t.equal(closesAt(nineToFive, tz, close), null, `${tz} closesAt when closed`);
    t.equal(nextOpen(nineToFive, tz, close), open + DAY, `${tz} after 17:00 the next day's 09:00 (no DST change in June)`);
  }
  t.end();
});

t.test('weekdays are local days', (t) => {
  const tz = 'Europe/Berlin';
  // Friday 2026-06-19 17:00 CEST → Monday 2026-06-22 09:00 CEST.
  t.equal(nextOpen(nineToFive, tz, at('2026-06-19T15:00:00Z')), at('2026-06-22T07:00:00Z'));
  t.equal(isOpen(nineToFive, tz, at('2026-06-20T10:00:00Z')), false, 'Saturday closed');
  t.equal(isOpen(nineToFive, tz, at('2026-06-21T10:00:00Z')), false, 'Sunday closed');
  const mondays: CallingWindow[] = [{ days: [1], start: '09:00', end: '17:00' }];
  // Monday 09:00 in Sydney is Sunday 23:00 UTC.
  t.equal(isOpen(mondays, 'Australia/Sydney', at('2026-06-21T23:00:00Z')), true, 'Sydney Monday morning is Sunday in UTC');
  t.equal(isOpen(mondays, 'Australia/Sydney', at('2026-06-22T10:00:00Z')), false, 'Monday in UTC is Monday night/Tuesday in Sydney');
  t.equal(nextOpen(mondays, 'Australia/Sydney', at('2026-06-22T07:00:00Z')), at('2026-06-28T23:00:00Z'), 'next Monday');
  const weekend: CallingWindow[] = [{ days: [0, 6], start: '10:00', end: '14:00' }];
  t.equal(nextOpen(weekend, 'America/New_York', at('2026-06-17T12:00:00Z')), at('2026-06-20T14:00:00Z'), 'Saturday 10:00 EDT');
  t.equal(nextOpen([{ days: [], start: '09:00', end: '17:00' }], 'UTC', at('2026-06-17T12:00:00Z')), null, 'no days: never');
  t.end();
});

t.test('holidays, startDate and endDate are local dates, inclusive', (t) => {
  const tz = 'America/New_York';
  const w: CallingWindow[] = [{ days: WEEKDAYS, start: '09:00', end: '17:00', holidays: ['2026-07-03'], startDate: '2026-07-01', endDate: '2026-07-07' }];
  t.equal(nextOpen(w, tz, at('2026-06-01T12:00:00Z')), at('2026-07-01T13:00:00Z'), 'before startDate: its 09:00');
  t.equal(isOpen(w, tz, at('2026-06-30T14:00:00Z')), false, 'the day before startDate');
  t.equal(isOpen(w, tz, at('2026-07-01T13:00:00Z')), true, 'startDate 09:00');
  t.equal(isOpen(w, tz, at('2026-07-03T15:00:00Z')), false, 'holiday (Friday)');
  t.equal(nextOpen(w, tz, at('2026-07-02T21:00:00Z')), at('2026-07-06T13:00:00Z'), 'Thursday 17:00 → Monday (Friday holiday, weekend)');
  t.equal(isOpen(w, tz, at('2026-07-07T20:59:59.999Z')), true, 'endDate 16:59:59.999');
  t.equal(nextOpen(w, tz, at('2026-07-07T21:00:00Z')), null, 'after endDate: never');
  t.equal(nextOpen(w, tz, at('2027-01-01T00:00:00Z')), null);
  // The holiday is the local date: 2026-07-03 01:00 UTC is still 2 July in New York.
  const late: CallingWindow[] = [{ days: ALL_DAYS, start: '20:00', end: '22:00', holidays: ['2026-07-03'] }];
  t.equal(isOpen(late, tz, at('2026-07-03T01:00:00Z')), true, '2 July 21:00 EDT');
  t.equal(isOpen(late, tz, at('2026-07-04T01:00:00Z')), false, '3 July 21:00 EDT: holiday');
  t.end();
});

t.test('several windows', (t) => {
  const tz = 'Europe/London';
  const split: CallingWindow[] = [
    { days: WEEKDAYS, start: '09:00', end: '12:00' },
    { days: WEEKDAYS, start: '13:00', end: '17:00' },
    { days: [6], start: '10:00', end: '14:00' },
  ];
  // June: BST, UTC+1.
  t.equal(isOpen(split, tz, at('2026-06-17T11:30:00Z')), false, 'lunch closed');
  t.equal(nextOpen(split, tz, at('2026-06-17T11:30:00Z')), at('2026-06-17T12:00:00Z'), 'reopens 13:00');
  t.equal(closesAt(split, tz, at('2026-06-17T09:00:00Z')), at('2026-06-17T11:00:00Z'), 'morning closes 12:00');
  t.equal(nextOpen(split, tz, at('2026-06-19T16:00:00Z')), at('2026-06-20T09:00:00Z'), 'Friday evening → Saturday 10:00');
  const adjoining: CallingWindow[] = [
    { days: ALL_DAYS, start: '12:00', end: '17:00' },
    { days: ALL_DAYS, start: '09:00', end: '12:00' },
    { days: ALL_DAYS, start: '10:00', end: '11:00' },
  ];
  t.equal(closesAt(adjoining, tz, at('2026-06-17T09:30:00Z')), at('2026-06-17T16:00:00Z'), 'adjoining and overlapping windows close once, at 17:00');
  const wholeDays: CallingWindow[] = [{ days: [1, 2], start: '00:00', end: '24:00' }];
  t.equal(closesAt(wholeDays, tz, at('2026-06-15T10:00:00Z')), at('2026-06-16T23:00:00Z'), 'Monday and Tuesday: closes at Wednesday 00:00');
  t.equal(closesAt([{ days: ALL_DAYS, start: '00:00', end: '24:00' }], tz, at('2026-06-15T10:00:00Z')), null, 'always open: never closes');
  t.end();
});

t.test('an empty list is always open', (t) => {
  const now = at('2026-06-17T03:00:00Z');
  t.equal(isOpen([], 'UTC', now), true);
  t.equal(nextOpen([], 'UTC', now), now);
  t.equal(closesAt([], 'UTC', now), null);
  t.end();
});

t.test('looks ~400 days ahead', (t) => {
  const now = at('2026-01-01T12:00:00Z');
  const inDays = (n: number): CallingWindow[] => {
    const d = new Date(now + n * DAY).toISOString().slice(0, 10);
    return [{ days: ALL_DAYS, start: '09:00', end: '17:00', startDate: d }];
  };
  t.equal(nextOpen(inDays(390), 'UTC', now), now + 390 * DAY - 3 * HOUR);
  t.equal(nextOpen(inDays(420), 'UTC', now), null);
  t.end();
});

t.test('DST change days: 09:00-17:00 is open 8 real hours and opens at local 09:00', (t) => {
  // [zone, date, evening before at local 20:00, local 09:00 that day], instants from the zones'
  // offsets on either side of the change.
  const cases: [string, string, string, string][] = [
    ['America/New_York', '2026-03-08', '2026-03-08T01:00:00Z', '2026-03-08T13:00:00Z'], // EST → EDT
    ['America/New_York', '2026-11-01', '2026-11-01T00:00:00Z', '2026-11-01T14:00:00Z'], // EDT → EST
    ['Europe/Berlin', '2026-03-29', '2026-03-28T19:00:00Z', '2026-03-29T07:00:00Z'], // CET → CEST
    ['Europe/Berlin', '2026-10-25', '2026-10-24T18:00:00Z', '2026-10-25T08:00:00Z'], // CEST → CET
    ['Australia/Sydney', '2026-04-05', '2026-04-04T09:00:00Z', '2026-04-04T23:00:00Z'], // AEDT → AEST
    ['Australia/Sydney', '2026-10-04', '2026-10-03T10:00:00Z', '2026-10-03T22:00:00Z'], // AEST → AEDT
  ];
  for (const [tz, date, eveningIso, nineIso] of cases) {
    const w: CallingWindow[] = [{ days: ALL_DAYS, start: '09:00', end: '17:00', startDate: date, endDate: date }];
    const dayUtc = at(`${date}T00:00:00Z`);
    t.equal(openMinutes(w, tz, dayUtc - DAY, dayUtc + 2 * DAY), 8 * 60, `${tz} ${date}: 480 open minutes`);
    const open = nextOpen(w, tz, at(eveningIso));
    t.equal(open, at(nineIso), `${tz} ${date}: nextOpen from 20:00 the evening before is 09:00`);
    t.equal(closesAt(w, tz, at(nineIso)), at(nineIso) + 8 * HOUR, `${tz} ${date}: closes 8 hours later`);
    t.equal(isOpen(w, tz, at(nineIso) - 1), false);
    // The whole local day has 23 or 25 real hours.
    const whole: CallingWindow[] = [{ days: ALL_DAYS, start: '00:00', end: '24:00', startDate: date, endDate: date }];
    const minutes = openMinutes(whole, tz, dayUtc - DAY, dayUtc + 2 * DAY);
    t.ok(minutes === 23 * 60 || minutes === 25 * 60, `${tz} ${date}: the day has ${minutes / 60} hours`);
    const start = nextOpen(whole, tz, at(eveningIso))!;
    t.equal(closesAt(whole, tz, start)! - start, minutes * MIN, `${tz} ${date}: closesAt spans the whole day`);
  }
  t.end();
});

t.test('spring forward in New York (2026-03-08, 02:00 EST → 03:00 EDT)', (t) => {
  const tz = 'America/New_York';
  const day = { days: ALL_DAYS, startDate: '2026-03-08', endDate: '2026-03-08' };
  const evening = at('2026-03-08T01:00:00Z'); // 7 March 20:00 EST
  const gapEnd = at('2026-03-08T07:00:00Z'); // 03:00 EDT, the instant after 01:59:59.999 EST
  const fromGap: CallingWindow[] = [{ ...day, start: '02:30', end: '04:00' }];
  t.equal(nextOpen(fromGap, tz, evening), gapEnd, '02:30 does not exist: opens at 03:00 EDT');
  t.equal(isOpen(fromGap, tz, gapEnd - 1), false, '01:59:59.999 EST closed');
  t.equal(closesAt(fromGap, tz, gapEnd), at('2026-03-08T08:00:00Z'), 'closes 04:00 EDT');
  t.equal(openMinutes(fromGap, tz, evening, evening + DAY), 60, 'one real hour');
  const inGap: CallingWindow[] = [{ ...day, start: '02:15', end: '02:45' }];
  t.equal(nextOpen(inGap, tz, evening), null, 'a window wholly inside the gap never opens');
  const across: CallingWindow[] = [{ ...day, start: '01:00', end: '04:00' }];
  t.equal(nextOpen(across, tz, evening), at('2026-03-08T06:00:00Z'), '01:00 EST');
  t.equal(closesAt(across, tz, at('2026-03-08T06:00:00Z')), at('2026-03-08T08:00:00Z'), 'open across the gap until 04:00 EDT: 2 real hours');
  t.end();
});

t.test('fall back in New York (2026-11-01, 02:00 EDT → 01:00 EST): the repeated hour', (t) => {
  const tz = 'America/New_York';
  const day = { days: ALL_DAYS, startDate: '2026-11-01', endDate: '2026-11-01' };
  const evening = at('2026-11-01T00:00:00Z'); // 31 October 20:00 EDT
  const twice: CallingWindow[] = [{ ...day, start: '01:00', end: '01:30' }];
  t.equal(nextOpen(twice, tz, evening), at('2026-11-01T05:00:00Z'), 'first occurrence: 01:00 EDT');
  t.equal(closesAt(twice, tz, at('2026-11-01T05:00:00Z')), at('2026-11-01T05:30:00Z'));
  t.equal(nextOpen(twice, tz, at('2026-11-01T05:30:00Z')), at('2026-11-01T06:00:00Z'), 'second occurrence: 01:00 EST');
  t.equal(closesAt(twice, tz, at('2026-11-01T06:00:00Z')), at('2026-11-01T06:30:00Z'));
  t.equal(openMinutes(twice, tz, evening, evening + DAY), 60, 'open twice for half an hour');
  const cut: CallingWindow[] = [{ ...day, start: '01:30', end: '02:30' }];
  t.equal(closesAt(cut, tz, at('2026-11-01T05:30:00Z')), at('2026-11-01T06:00:00Z'), 'the clock going back to 01:00 closes it');
  t.equal(nextOpen(cut, tz, at('2026-11-01T06:00:00Z')), at('2026-11-01T06:30:00Z'), 'and 01:30 EST reopens it');
  t.equal(closesAt(cut, tz, at('2026-11-01T06:30:00Z')), at('2026-11-01T07:30:00Z'));
  t.end();
});

t.test('changes at local midnight in Santiago: the day ends twice, or starts at 01:00', (t) => {
  const tz = 'America/Santiago';
  // 2026-04-05 00:00 -03 → 2026-04-04 23:00 -04 (03:00Z): 23:00-24:00 on 4 April happens twice.
  const lastHour: CallingWindow[] = [{ days: ALL_DAYS, start: '23:00', end: '24:00', startDate: '2026-04-04', endDate: '2026-04-04' }];
  t.equal(nextOpen(lastHour, tz, at('2026-04-04T12:00:00Z')), at('2026-04-05T02:00:00Z'));
  t.equal(closesAt(lastHour, tz, at('2026-04-05T02:00:00Z')), at('2026-04-05T04:00:00Z'), 'both occurrences in a row: 2 real hours');
  const firstHour: CallingWindow[] = [{ days: ALL_DAYS, start: '00:00', end: '01:00', startDate: '2026-04-05', endDate: '2026-04-05' }];
  t.equal(nextOpen(firstHour, tz, at('2026-04-04T12:00:00Z')), at('2026-04-05T04:00:00Z'), '5 April 00:00 -04, after the repeated hour');
  // 2026-09-06 00:00 -04 → 01:00 -03 (04:00Z): 6 September starts at 01:00.
  const early: CallingWindow[] = [{ days: ALL_DAYS, start: '00:00', end: '02:00', startDate: '2026-09-06', endDate: '2026-09-06' }];
  t.equal(nextOpen(early, tz, at('2026-09-05T12:00:00Z')), at('2026-09-06T04:00:00Z'), 'opens at 01:00 -03');
  t.equal(closesAt(early, tz, at('2026-09-06T04:00:00Z')), at('2026-09-06T05:00:00Z'), 'one real hour');
  t.end();
});

t.test('parseWindows accepts good input and normalises it', (t) => {
  const r = parseWindows([
    { days: ['mon', 'TUE', 'Friday', 3, 3], start: '09:00', end: '24:00', startDate: '2026-01-01', endDate: '2026-12-31', holidays: ['2026-12-25', '2026-01-01', '2026-12-25'] },
    { days: [0, 6], start: '00:00', end: '00:01', startDate: null, endDate: null, holidays: null },
    { days: [], start: '23:59', end: '24:00' },
  ]);
  if (!r.ok) { t.fail(r.problems.join('; ')); return t.end(); }
  t.same(r.windows, [
    { days: [1, 2, 3, 5], start: '09:00', end: '24:00', startDate: '2026-01-01', endDate: '2026-12-31', holidays: ['2026-01-01', '2026-12-25'] },
    { days: [0, 6], start: '00:00', end: '00:01' },
    { days: [], start: '23:59', end: '24:00' },
  ]);
  t.notOk('startDate' in r.windows[1], 'null optional fields are left out');
  t.ok(Object.isFrozen(r.windows[0]) && Object.isFrozen(r.windows[0].days) && Object.isFrozen(r.windows[0].holidays), 'frozen');
  t.same(parseWindows([]), { ok: true, windows: [] });
  t.end();
});

t.test('parseWindows reports every problem with its field path', (t) => {
  const problemsOf = (x: unknown, path?: string): string[] => {
    const r = parseWindows(x, path);
    return r.ok ? [] : r.problems;
  };
  const pathsOf = (x: unknown, path?: string): string[] => problemsOf(x, path).map((p) => p.slice(0, p.indexOf(': ')));
  const base = { days: [1], start: '09:00', end: '17:00' };
  const one = (patch: Record<string, unknown>) => [{ ...base, ...patch }];

  t.match(problemsOf(one({ start: '9:00' })), [/^windows\[0\]\.start: expected HH:MM/]);
  for (const start of ['9:00', '09:60', '24:00', '0900', 900, null, '09:00:00']) t.same(pathsOf(one({ start })), ['windows[0].start'], `start ${JSON.stringify(start)}`);
  for (const end of ['24:01', '25:00', '17', undefined]) t.same(pathsOf(one({ end })), ['windows[0].end'], `end ${JSON.stringify(end)}`);
  t.match(problemsOf(one({ end: '09:00' })), [/^windows\[0\]\.end: must be later than start/], 'end = start');
  t.same(pathsOf(one({ end: '08:00' })), ['windows[0].end'], 'end before start (overnight)');
  t.same(pathsOf(one({ days: [7] })), ['windows[0].days[0]'], 'day 7');
  t.same(pathsOf(one({ days: [1, 'funday'] })), ['windows[0].days[1]'], "'funday'");
  t.same(pathsOf(one({ days: [-1, 1.5, '1'] })), ['windows[0].days[0]', 'windows[0].days[1]', 'windows[0].days[2]']);
  t.same(pathsOf(one({ days: 'mon' })), ['windows[0].days'], 'days not an array');
  t.same(pathsOf([{ start: '09:00', end: '17:00' }]), ['windows[0].days'], 'days missing');
  for (const d of ['2026-02-30', '2026-2-3', '26-01-01', '2026-13-01', '2026-01-01T00:00', 20260101]) {
    t.same(pathsOf(one({ startDate: d })), ['windows[0].startDate'], `startDate ${JSON.stringify(d)}`);
  }
  t.same(pathsOf(one({ endDate: '2025-02-29' })), ['windows[0].endDate'], 'not a leap year');
  t.match(problemsOf(one({ startDate: '2026-05-02', endDate: '2026-05-01' })), [/^windows\[0\]\.endDate: must not be before startDate/]);
  t.same(pathsOf(one({ startDate: '2026-05-01', endDate: '2026-05-01' })), [], 'one-day range');
  t.same(pathsOf(one({ holidays: '2026-12-25' })), ['windows[0].holidays']);
  t.same(pathsOf(one({ holidays: ['2026-12-25', '2026-12-32'] })), ['windows[0].holidays[1]']);
  t.same(pathsOf(one({ holiday: ['2026-12-25'] })), ['windows[0].holiday'], 'a misspelt field is not ignored');
  for (const x of [{}, null, undefined, 'x', 1]) t.same(pathsOf(x), ['windows'], `not an array: ${JSON.stringify(x)}`);
  t.same(pathsOf([1, null, []]), ['windows[0]', 'windows[1]', 'windows[2]'], 'items not objects');
  t.same(pathsOf(new Array(65).fill(base)), ['windows'], 'too many windows');
  t.same(pathsOf([base, { ...base, start: 'x' }, { ...base, days: [1, 9], end: '08:00' }], 'campaign.windows'),
    ['campaign.windows[1].start', 'campaign.windows[2].days[1]', 'campaign.windows[2].end'], 'all problems at once, under the given path');
  t.end();
});

t.test('isTimeZone', (t) => {
  for (const z of ['Europe/Berlin', 'America/New_York', 'Asia/Calcutta', 'Asia/Kolkata', 'UTC']) t.equal(isTimeZone(z), true, z);
  for (const z of ['Mars/Olympus', '', 'Etc/Unknown', 'Europe/Berlin ', 'x'.repeat(100)]) t.equal(isTimeZone(z), false, JSON.stringify(z));
  t.end();
});

// An independent reading of the rules: Intl's formatToParts and string comparisons only.
const oracleFormats = new Map<string, Intl.DateTimeFormat>();
function oracleOpen(windows: readonly CallingWindow[], tz: string, ms: number): boolean {
  let f = oracleFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    oracleFormats.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  const date = `${p.year}-${p.month}-${p.day}`;
  const hm = `${p.hour}:${p.minute}`; // start/end are whole minutes, so HH:MM decides
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday);
  return windows.length === 0 || windows.some((w) => w.days.includes(weekday) && hm >= w.start && hm < w.end
    && (w.startDate === undefined || date >= w.startDate) && (w.endDate === undefined || date <= w.endDate)
    && !(w.holidays ?? []).includes(date));
}

t.test('properties over 2026 (fast-check)', (t) => {
  const zones = ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Kathmandu',
    'America/St_Johns', 'Pacific/Chatham', 'America/Santiago', 'America/Havana', 'Antarctica/Troll', 'Europe/London', 'Pacific/Honolulu', 'UTC'];
  const y2026 = at('2026-01-01T00:00:00Z');
  const y2027 = at('2027-01-01T00:00:00Z');
  // DST changes of several of those zones, to land near them often.
  const changes = ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-04-04T16:00:00Z',
    '2026-10-03T16:00:00Z', '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', '2026-04-04T14:00:00Z', '2026-09-26T14:00:00Z',
    '2026-04-05T03:00:00Z', '2026-09-06T04:00:00Z', '2026-03-08T05:00:00Z', '2026-11-01T05:00:00Z', '2026-03-08T05:30:00Z', '2026-11-01T04:30:00Z'].map(at);
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const dateIn2026 = fc.integer({ min: 0, max: 364 }).map((d) => new Date(y2026 + d * DAY).toISOString().slice(0, 10));
  const minuteOfDay = fc.oneof(fc.integer({ min: 0, max: 1439 }), fc.constantFrom(0, 60, 90, 120, 150, 180, 540));
  const windowArb = fc.record({
    days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }),
    span: minuteOfDay.chain((s) => fc.oneof(fc.integer({ min: s + 1, max: 1440 }), fc.constant(Math.min(1440, s + 60))).map((e) => [s, e] as const)),
    dates: fc.option(fc.tuple(dateIn2026, dateIn2026).map(([a, b]) => (a <= b ? [a, b] : [b, a]))),
    holidays: fc.array(dateIn2026, { maxLength: 3 }),
  }).map((w) => ({
    days: w.days, start: hhmm(w.span[0]), end: hhmm(w.span[1]), holidays: w.holidays,
    ...(w.dates ? { startDate: w.dates[0], endDate: w.dates[1] } : {}),
  }));
  const instant = fc.oneof(
    fc.integer({ min: y2026, max: y2027 - 1 }),
    fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -2 * DAY, max: 2 * DAY })).map(([c, d]) => c + d),
    fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -3, max: 3 })).map(([c, d]) => c + d * 30 * MIN),
  );

  let checked = 0;
  fc.assert(fc.property(fc.array(windowArb, { maxLength: 3 }), fc.constantFrom(...zones), instant, (raw, tz, now) => {
    const parsed = parseWindows(raw);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const ws = parsed.windows;
    const open = isOpen(ws, tz, now);
    if (open !== oracleOpen(ws, tz, now)) return false;

    const next = nextOpen(ws, tz, now);
    if (next === null) {
      if (open) return false;
      for (let k = 0; k <= 50; k++) if (isOpen(ws, tz, now + Math.floor((k * 398 * DAY) / 50))) return false;
    } else {
      if (next < now || !isOpen(ws, tz, next) || !oracleOpen(ws, tz, next)) return false;
      if ((next === now) !== open) return false;
      if (next > now) {
        if (isOpen(ws, tz, next - 1)) return false; // exact to the millisecond
        for (let k = 1; k <= 50; k++) if (isOpen(ws, tz, now + Math.floor(((next - now) * k) / 51))) return false;
      }
    }

    if (!open && closesAt(ws, tz, now) !== null) return false;
    // closesAt from now when open, else from the instant it opens.
    const from = open ? now : next;
    if (from === null) return true;
    const close = closesAt(ws, tz, from);
    if (close === null) return ws.length === 0 || isOpen(ws, tz, from + 398 * DAY);
    if (close <= from || isOpen(ws, tz, close) || !isOpen(ws, tz, close - 1)) return false;
    for (let k = 1; k <= 50; k++) if (!isOpen(ws, tz, from + Math.floor(((close - from) * k) / 51))) return false;
    checked++;
    return true;
  }), { seed: 11, numRuns: 1500 });
  t.ok(checked > 500, `closesAt checked ${checked} times`);
  t.end();
});

t.test('costs (printed, not asserted)', (t) => {
  const ws: CallingWindow[] = [{ days: WEEKDAYS, start: '09:00', end: '17:00', holidays: ['2026-12-25'] }];
  const tz = 'Europe/Berlin';
  const N = 20_000;
  const base = at('2026-06-15T00:00:00Z');
  let sink = 0;
  let t0 = performance.now();
  for (let i = 0; i < N; i++) if (isOpen(ws, tz, base + i * 37 * MIN)) sink++;
  const isOpenUs = ((performance.now() - t0) * 1000) / N;
  // Closed instants only (evenings, nights, weekends): the case nextOpen is called for.
  const closed: number[] = [];
  for (let i = 0; closed.length < N; i++) if (!isOpen(ws, tz, base + i * 37 * MIN)) closed.push(base + i * 37 * MIN);
  t0 = performance.now();
  for (const c of closed) sink += nextOpen(ws, tz, c) ?? 0;
  const nextOpenUs = ((performance.now() - t0) * 1000) / N;
  t.comment(`isOpen ${isOpenUs.toFixed(2)} µs, nextOpen (from a closed instant) ${nextOpenUs.toFixed(2)} µs`);
  t.ok(sink > 0);
  t.end();
});
