import t from 'tap';
import type { Test } from 'tap';
import { parseCampaignSpec, type CampaignSpec } from '../../../src/campaigns/campaign-spec.js';
import { DEFAULT_RETRY } from '../../../src/campaigns/retry-rules.js';

const MINIMAL = { name: 'June renewals', bot: 'sales-bot', trunk: 'twilio.main' } as const;

/** The spec of a body that must be valid. */
function specOf(b: Record<string, unknown>, tenant = 'acme'): CampaignSpec {
  const r = parseCampaignSpec(b, tenant);
  if (!r.ok) throw new Error(`expected a spec, got ${JSON.stringify(r.problems)}`);
  return r.spec;
}

/** The problems of a body that must be refused. */
function problemsOf(b: Record<string, unknown>): string[] {
  const r = parseCampaignSpec(b, 'acme');
  if (r.ok) throw new Error(`expected problems, got ${JSON.stringify(r.spec)}`);
  return r.problems;
}

/** The fields the problems name (the text before the first ':'). */
const fields = (problems: string[]): string[] => problems.map((p) => p.slice(0, p.indexOf(':')));

/** Asserts that `b` (the minimal body plus `extra`) gives exactly one problem, naming `field`. */
function refuses(t: Test, extra: Record<string, unknown>, field: string): void {
  const p = problemsOf({ ...MINIMAL, ...extra });
  t.same(fields(p), [field], `${JSON.stringify(extra).slice(0, 60)} → ${field}`);
}

t.test('a minimal body gets the defaults', (t) => {
  const r = parseCampaignSpec({ ...MINIMAL }, 'acme');
  t.same(r, {
    ok: true,
    spec: {
      name: 'June renewals', tenant: 'acme', bot: 'sales-bot', trunk: 'twilio.main',
      timeZone: 'UTC', windows: [], pacing: { maxConcurrent: 5, callsPerSecond: 1, reserveSlots: 0 },
      retry: DEFAULT_RETRY, caps: { perDay: null, perNumberPerDay: null }, ringTimeoutSec: 30,
    },
  });
  const spec = specOf({ ...MINIMAL });
  t.notOk('callerId' in spec, 'no callerId key');
  t.notOk('defaultCountry' in spec, 'no defaultCountry key');
  t.notOk('offlinePrompt' in spec, 'no offlinePrompt key');
  t.equal(specOf({ ...MINIMAL }, 'other').tenant, 'other', 'the tenant is the one given');
  t.end();
});

t.test('null pacing, caps, windows and ringTimeoutSec are the defaults', (t) => {
  const s = specOf({ ...MINIMAL, pacing: null, caps: null, windows: null, ringTimeoutSec: null });
  t.same(s.pacing, { maxConcurrent: 5, callsPerSecond: 1, reserveSlots: 0 });
  t.same(s.caps, { perDay: null, perNumberPerDay: null });
  t.same(s.windows, []);
  t.equal(s.ringTimeoutSec, 30);
  t.end();
});

t.test('a full body is kept', (t) => {
  const s = specOf({
    ...MINIMAL,
    callerId: '+12125550100',
    timeZone: 'America/New_York',
    defaultCountry: 'US',
    windows: [{ days: ['mon', 'tue'], start: '09:00', end: '17:00' }],
    pacing: { maxConcurrent: 20, callsPerSecond: 0.5, reserveSlots: 4 },
    retry: { busy: { delaySec: 60, maxAttempts: 5 } },
    caps: { perDay: 1000, perNumberPerDay: 2 },
    ringTimeoutSec: 45,
    offlinePrompt: '/usr/share/sounds/offline.wav',
  });
  t.same(s, {
    name: 'June renewals', tenant: 'acme', bot: 'sales-bot', trunk: 'twilio.main',
    callerId: '+12125550100', timeZone: 'America/New_York', defaultCountry: 'US',
    windows: [{ days: [1, 2], start: '09:00', end: '17:00' }],
    pacing: { maxConcurrent: 20, callsPerSecond: 0.5, reserveSlots: 4 },
    retry: { ...DEFAULT_RETRY, busy: { delaySec: 60, maxAttempts: 5 } },
    caps: { perDay: 1000, perNumberPerDay: 2 },
    ringTimeoutSec: 45,
    offlinePrompt: '/usr/share/sounds/offline.wav',
  });
  t.end();
});

t.test('partial pacing and caps keep the other defaults', (t) => {
  t.same(specOf({ ...MINIMAL, pacing: { callsPerSecond: 3 } }).pacing, { maxConcurrent: 5, callsPerSecond: 3, reserveSlots: 0 });
  t.same(specOf({ ...MINIMAL, caps: { perNumberPerDay: 1 } }).caps, { perDay: null, perNumberPerDay: 1 });
  t.end();
});

t.test('the bounds that are allowed', (t) => {
  t.equal(specOf({ ...MINIMAL, name: 'x' }).name, 'x');
  t.equal(specOf({ ...MINIMAL, name: 'é'.repeat(200) }).name.length, 200);
  t.equal(specOf({ ...MINIMAL, bot: 'b'.repeat(64), trunk: 'A.b_c-9' }).bot.length, 64);
  t.equal(specOf({ ...MINIMAL, callerId: '1' }).callerId, '1');
  t.equal(specOf({ ...MINIMAL, callerId: '+' + '9'.repeat(32) }).callerId?.length, 33);
  t.same(specOf({ ...MINIMAL, pacing: { maxConcurrent: 1, callsPerSecond: 1000, reserveSlots: 10_000 } }).pacing, { maxConcurrent: 1, callsPerSecond: 1000, reserveSlots: 10_000 });
  t.equal(specOf({ ...MINIMAL, pacing: { maxConcurrent: 10_000, callsPerSecond: 0.001 } }).pacing.maxConcurrent, 10_000);
  t.same(specOf({ ...MINIMAL, caps: { perDay: 1, perNumberPerDay: 100 } }).caps, { perDay: 1, perNumberPerDay: 100 });
  t.equal(specOf({ ...MINIMAL, caps: { perDay: 10_000_000 } }).caps.perDay, 10_000_000);
  t.equal(specOf({ ...MINIMAL, ringTimeoutSec: 1 }).ringTimeoutSec, 1);
  t.equal(specOf({ ...MINIMAL, ringTimeoutSec: 300 }).ringTimeoutSec, 300);
  for (const v of ['/usr/share/sounds/offline.wav', '/var/lib/fsbridge/prompts/net-down_2.R16', `/${'x'.repeat(900)}.wav`]) {
    t.equal(specOf({ ...MINIMAL, offlinePrompt: v }).offlinePrompt, v, `offlinePrompt ${v.slice(0, 30)}`);
  }
  t.equal(specOf({ ...MINIMAL, timeZone: 'Asia/Calcutta' }).timeZone, 'Asia/Calcutta', 'an alias Intl knows');
  t.end();
});

t.test('required strings', (t) => {
  for (const k of ['name', 'bot', 'trunk'] as const) {
    const rest: Record<string, unknown> = { ...MINIMAL };
    delete rest[k];
    t.same(fields(problemsOf(rest)), [k], `${k} missing`);
    for (const v of [null, 5, '', ['x'], {}]) refuses(t, { [k]: v }, k);
  }
  refuses(t, { name: 'x'.repeat(201) }, 'name');
  refuses(t, { name: 'line\nbreak' }, 'name');
  refuses(t, { name: 'tab\there' }, 'name');
  refuses(t, { name: 'nul\u0000' }, 'name');
  for (const v of ['sales bot', 'bot/1', 'b'.repeat(65), 'bö']) {
    refuses(t, { bot: v }, 'bot');
    refuses(t, { trunk: v }, 'trunk');
  }
  t.end();
});

t.test('optional strings', (t) => {
  for (const v of ['', '+', '++1', '212-555-0100', 'anonymous', '1'.repeat(33), 5]) refuses(t, { callerId: v }, 'callerId');
  for (const v of ['us', 'USA', 'U', '', 'U1', 5]) refuses(t, { defaultCountry: v }, 'defaultCountry');
  for (const v of ['', '/sounds/with space.wav', 'a\tb', '/a\u0000b', '/a\nb', 'x'.repeat(1001), 5, 'tone_stream://%(300,0,440)', 'bridge::sofia/gateway/t/+1900', '/x/../etc/passwd.wav', 'relative.wav', '/a/b.txt', '/a/lua::x.wav']) refuses(t, { offlinePrompt: v }, 'offlinePrompt');
  t.end();
});

t.test('timeZone', (t) => {
  for (const v of ['Mars/Olympus', '', 'utc+1', 5, ['UTC']]) refuses(t, { timeZone: v }, 'timeZone');
  t.end();
});

t.test('windows: problems come from parseWindows with the windows path', (t) => {
  refuses(t, { windows: 'weekdays' }, 'windows');
  refuses(t, { windows: [{ days: [1], start: '17:00', end: '09:00' }] }, 'windows[0].end');
  refuses(t, { windows: [{ days: [9], start: '09:00', end: '17:00' }] }, 'windows[0].days[0]');
  t.end();
});

t.test('pacing', (t) => {
  for (const v of ['fast', 5, true, []]) refuses(t, { pacing: v }, 'pacing');
  for (const v of [0, -1, 10_001, 2.5, '5']) refuses(t, { pacing: { maxConcurrent: v } }, 'pacing.maxConcurrent');
  for (const v of [0, -1, 1000.5, 1001, Number.NaN, Number.POSITIVE_INFINITY, '1', true]) refuses(t, { pacing: { callsPerSecond: v } }, 'pacing.callsPerSecond');
  for (const v of [-1, 10_001, 0.5, '0']) refuses(t, { pacing: { reserveSlots: v } }, 'pacing.reserveSlots');
  t.end();
});

t.test('retry: problems come from parseRetryRules', (t) => {
  refuses(t, { retry: 'never' }, 'retry');
  refuses(t, { retry: { busy: { delaySec: -1 } } }, 'retry.busy.delaySec');
  refuses(t, { retry: { completed: { maxAttempts: 2 } } }, 'retry.completed');
  t.end();
});

t.test('caps', (t) => {
  for (const v of [0, -1, 10_000_001, 1.5, '100', true]) refuses(t, { caps: { perDay: v } }, 'caps.perDay');
  for (const v of [0, 101, 1.5, '1']) refuses(t, { caps: { perNumberPerDay: v } }, 'caps.perNumberPerDay');
  for (const v of ['none', 5, true, []]) refuses(t, { caps: v }, 'caps');
  t.end();
});

t.test('ringTimeoutSec', (t) => {
  for (const v of [0, -5, 301, 30.5, '30', true]) refuses(t, { ringTimeoutSec: v }, 'ringTimeoutSec');
  t.end();
});

t.test('every problem is reported at once', (t) => {
  const p = problemsOf({
    name: '',
    trunk: 'a b',
    callerId: 'x',
    timeZone: 'Nowhere',
    windows: [{ days: [1], start: '25:00', end: '17:00' }],
    pacing: { maxConcurrent: 0, callsPerSecond: 0, reserveSlots: -1 },
    retry: { busy: { maxAttempts: 0 } },
    caps: { perDay: 0, perNumberPerDay: 0 },
    ringTimeoutSec: 0,
  });
  t.same(fields(p).sort(), [
    'bot', 'callerId', 'caps.perDay', 'caps.perNumberPerDay', 'name', 'pacing.callsPerSecond', 'pacing.maxConcurrent',
    'pacing.reserveSlots', 'retry.busy.maxAttempts', 'ringTimeoutSec', 'timeZone', 'trunk', 'windows[0].start',
  ]);
  t.end();
});
