import t from 'tap';
import { importContacts, MAX_CONTACTS, type ImportedContact } from '../../../src/campaigns/contact-import.js';

type Ok = { contacts: ImportedContact[]; duplicates: number; invalid: number };

/** The result of an import that must succeed. */
function ok(input: { json?: unknown; csv?: string }, defaultCountry?: string): Ok {
  const r = importContacts(input, defaultCountry);
  if (!r.ok) throw new Error(`expected contacts, got problems ${JSON.stringify(r.problems)}`);
  return r;
}

/** The problems of an import that must fail. */
function problems(input: { json?: unknown; csv?: string }, defaultCountry?: string): string[] {
  const r = importContacts(input, defaultCountry);
  if (r.ok) throw new Error(`expected problems, got ${JSON.stringify(r.contacts)}`);
  return r.problems;
}

const NY = '+12125551234';
const LONDON = '+442071234567';

t.test('JSON: objects and bare strings', (t) => {
  const r = ok({ json: [NY, { number: LONDON, vars: { name: 'Ann' } }, { number: '+33142685300', timeZone: 'Europe/Berlin' }] });
  t.same(r, {
    ok: true,
    contacts: [
      { number: NY, timeZone: 'America/New_York', vars: null, valid: true },
      { number: LONDON, timeZone: 'Europe/London', vars: { name: 'Ann' }, valid: true },
      { number: '+33142685300', timeZone: 'Europe/Berlin', vars: null, valid: true },
    ],
    duplicates: 0,
    invalid: 0,
  });
  t.same(ok({ json: [] }), { ok: true, contacts: [], duplicates: 0, invalid: 0 }, 'an empty array');
  t.same(ok({ json: [{ number: NY, vars: null }] }).contacts[0].vars, null, 'null vars are none');
  t.end();
});

t.test('E.164 normalisation', (t) => {
  const us = ok({ json: ['(212) 555-1234', '212.555.1234', '+1 212-555-1234', ' +1 (212) 555 1234 '] }, 'US');
  t.same(us.contacts.map((c) => c.number), [NY], 'every US spelling is the same number');
  t.equal(us.duplicates, 3);
  t.same(ok({ json: ['020 7123 4567'] }, 'GB').contacts[0], { number: LONDON, timeZone: 'Europe/London', vars: null, valid: true }, 'GB national');
  t.same(ok({ json: [LONDON] }, 'US').contacts[0].number, LONDON, "a number with '+' ignores defaultCountry");
  const none = ok({ json: ['(212) 555-1234'] });
  t.same(none.contacts, [{ number: '(212) 555-1234', timeZone: null, vars: null, valid: false }], 'no defaultCountry: not a number, kept as given');
  t.equal(none.invalid, 1);
  t.same(ok({ json: ['(212) 555-1234'] }, 'ZZ').contacts[0].valid, false, 'an unknown country is as if none');
  t.end();
});

t.test('spaces around a number do not make it invalid', (t) => {
  t.same(ok({ json: [' +12125551234 '] }).contacts, [{ number: NY, timeZone: 'America/New_York', vars: null, valid: true }], "a space before '+'");
  t.same(ok({ json: ['\t+44 20 7123 4567'] }).contacts[0].valid, true, "a tab before '+'");
  t.same(ok({ json: [' (212) 555-1234'] }, 'US').contacts[0].number, NY, 'a space before a national number');
  const r = ok({ csv: 'name, number\r\nAnn, +12125551234\r\n' });
  t.same(r.contacts, [{ number: NY, timeZone: 'America/New_York', vars: { name: 'Ann' }, valid: true }], "a CSV cell after ', '");
  t.equal(r.invalid, 0);
  t.end();
});

t.test('duplicates are counted and dropped, the first kept', (t) => {
  const r = ok({ json: [{ number: NY, vars: { n: '1' } }, LONDON, { number: '+1 212 555 1234', vars: { n: '2' } }, LONDON, NY] });
  t.same(r.contacts.map((c) => [c.number, c.vars]), [[NY, { n: '1' }], [LONDON, null]]);
  t.equal(r.duplicates, 3);
  t.equal(r.invalid, 0);
  const bad = ok({ json: ['12345', ' 12345 ', '12345'] });
  t.same(bad.contacts.map((c) => c.number), ['12345'], 'invalid numbers are compared trimmed');
  t.equal(bad.duplicates, 2);
  t.equal(bad.invalid, 1, 'a dropped duplicate is not counted as invalid too');
  t.end();
});

t.test('invalid numbers are kept with valid:false and counted', (t) => {
  const r = ok({ json: ['+1 212 555 12', 'call me', '+99912345678', NY, { number: '+15555555555', timeZone: 'America/Chicago' }] });
  t.same(r.contacts, [
    { number: '+1 212 555 12', timeZone: null, vars: null, valid: false },
    { number: 'call me', timeZone: null, vars: null, valid: false },
    { number: '+99912345678', timeZone: null, vars: null, valid: false },
    { number: NY, timeZone: 'America/New_York', vars: null, valid: true },
    { number: '+15555555555', timeZone: 'America/Chicago', vars: null, valid: false },
  ]);
  t.equal(r.invalid, 4);
  t.end();
});

t.test('time zone: given wins, else from the number, else null', (t) => {
  const r = ok({ json: [
    { number: NY, timeZone: 'Asia/Tokyo' },
    '+13105551234',
    '+18005551234', // toll-free: the whole country, several zones
    '+919876543210',
  ] });
  t.same(r.contacts.map((c) => c.timeZone), ['Asia/Tokyo', 'America/Los_Angeles', null, 'Asia/Calcutta']);
  t.same(r.contacts.map((c) => c.valid), [true, true, true, true]);
  t.end();
});

t.test('CSV: number column, time zone column, other columns as vars', (t) => {
  const csv = 'name,number,timeZone,plan\r\nAnn,+12125551234,,gold\r\n"Smith, Bob",+44 20 7123 4567,Europe/Paris,\r\n,(212) 555-0199,America/Chicago,silver\r\n';
  const r = ok({ csv }, 'US');
  t.same(r, {
    ok: true,
    contacts: [
      { number: NY, timeZone: 'America/New_York', vars: { name: 'Ann', plan: 'gold' }, valid: true },
      { number: LONDON, timeZone: 'Europe/Paris', vars: { name: 'Smith, Bob' }, valid: true },
      { number: '+12125550199', timeZone: 'America/Chicago', vars: { plan: 'silver' }, valid: true },
    ],
    duplicates: 0,
    invalid: 0,
  });
  t.end();
});

t.test('CSV: the timezone spelling, header spaces, a BOM, no vars, duplicates', (t) => {
  const r = ok({ csv: '\uFEFF number , timezone \n+12125551234,Asia/Tokyo\n+1 212 555 1234,\n+442071234567\n' });
  t.same(r.contacts, [
    { number: NY, timeZone: 'Asia/Tokyo', vars: null, valid: true },
    { number: LONDON, timeZone: 'Europe/London', vars: null, valid: true },
  ], 'a short row has no time zone cell');
  t.equal(r.duplicates, 1);
  t.same(ok({ csv: 'number\n' }), { ok: true, contacts: [], duplicates: 0, invalid: 0 }, 'only a header');
  t.same(ok({ csv: 'number,,note\n+12125551234,x,\n' }).contacts[0].vars, null, 'a column without a name and empty cells are not vars');
  t.end();
});

t.test('CSV: csv wins over json', (t) => {
  t.same(ok({ csv: 'number\n+12125551234\n', json: [LONDON] }).contacts.map((c) => c.number), [NY]);
  t.end();
});

t.test('problems: the input itself', (t) => {
  for (const json of [undefined, null, {}, 'x', 5]) {
    const p = problems({ json });
    t.equal(p.length, 1, `json ${JSON.stringify(json)}`);
    t.match(p[0], /^contacts: /);
  }
  const noNumber = problems({ csv: 'phone,name\n+12125551234,Ann\n' });
  t.equal(noNumber.length, 1);
  t.match(noNumber[0], /^contacts CSV: .*"number"/, 'missing number column');
  t.match(problems({ csv: 'Number\n+12125551234\n' })[0], /"number"/, 'the column name is exact');
  t.match(problems({ csv: '' })[0], /"number"/, 'empty CSV: no header');
  const unclosed = problems({ csv: 'number\n"+12125551234\n' });
  t.equal(unclosed.length, 1);
  t.match(unclosed[0], /^contacts CSV: .*line 2/, 'an unclosed quote names its line');
  t.end();
});

t.test('problems: a contact', (t) => {
  const missing = problems({ json: [NY, { timeZone: 'UTC' }] });
  t.equal(missing.length, 1);
  t.match(missing[0], /^contacts\[1\]\.number: /, 'no number');
  for (const number of [12125551234, '', '   ', null, 'x'.repeat(65)]) {
    const p = problems({ json: [{ number }] });
    t.equal(p.length, 1, `number ${JSON.stringify(number)}`);
    t.match(p[0], /^contacts\[0\]\.number: /);
  }
  t.match(problems({ json: [null] })[0], /^contacts\[0\]\.number: /, 'a null contact');
  t.match(problems({ json: [7] })[0], /^contacts\[0\]\.number: /, 'a number instead of an object');
  for (const timeZone of ['Mars/Olympus', '', 5, 'x'.repeat(65)]) {
    const p = problems({ json: [{ number: NY, timeZone }] });
    t.equal(p.length, 1, `timeZone ${JSON.stringify(timeZone)}`);
    t.match(p[0], /^contacts\[0\]\.timeZone: /);
  }
  t.match(problems({ csv: 'number,timeZone\n+12125551234,UTC\n+12125551235,Nowhere/Land\n' })[0], /^contacts CSV line 3\.timeZone: /, 'a CSV time zone');
  const csv = 'number,note,timeZone\r\n+12125551234,"two\r\nlines",UTC\r\n\r\n+12125551235,x,Nowhere/Land\r\n';
  t.match(problems({ csv })[0], /^contacts CSV line 5\.timeZone: /, 'the line counts blank lines and line breaks inside quotes');
  t.end();
});

t.test('problems: vars', (t) => {
  for (const vars of ['x', 5, ['a'], true]) {
    const p = problems({ json: [{ number: NY, vars }] });
    t.equal(p.length, 1, `vars ${JSON.stringify(vars)}`);
    t.match(p[0], /^contacts\[0\]\.vars: /);
  }
  for (const v of [1, null, true, { a: 'b' }, 'x'.repeat(1001)]) {
    const p = problems({ json: [{ number: NY, vars: { ok: 'fine', bad: v } }] });
    t.equal(p.length, 1, `a var ${JSON.stringify(v).slice(0, 20)}`);
    t.match(p[0], /^contacts\[0\]\.vars\.bad: /);
  }
  t.match(problems({ json: [{ number: NY, vars: { ['k'.repeat(101)]: 'v' } }] })[0], /^contacts\[0\]\.vars\.k+: /, 'a long name');
  t.same(ok({ json: [{ number: NY, vars: { ['k'.repeat(100)]: 'v'.repeat(1000) } }] }).contacts[0].vars, { ['k'.repeat(100)]: 'v'.repeat(1000) }, 'at the size limits');

  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, String(i)]));
  t.equal(Object.keys(ok({ json: [{ number: NY, vars: many(50) }] }).contacts[0].vars ?? {}).length, 50, '50 vars are allowed');
  const tooMany = problems({ json: [{ number: NY, vars: many(51) }] });
  t.equal(tooMany.length, 1);
  t.match(tooMany[0], /^contacts\[0\]\.vars: .*50/, 'too many vars');

  const header = ['number', ...Array.from({ length: 51 }, (_, i) => `c${i}`)].join(',');
  const row = [NY, ...Array.from({ length: 51 }, (_, i) => `x${i}`)].join(',');
  t.match(problems({ csv: `${header}\n${row}\n` })[0], /^contacts CSV line 2\.vars: /, 'too many CSV columns');
  t.end();
});

t.test('problems: every contact is checked, at most 20 reported', (t) => {
  const p3 = problems({ json: [{ number: 1 }, NY, { number: LONDON, timeZone: 'bad' }, { number: NY, vars: 'x' }] });
  t.same(p3.map((s) => s.split(':')[0]), ['contacts[0].number', 'contacts[2].timeZone', 'contacts[3].vars']);
  const p = problems({ json: Array.from({ length: 50 }, (_, i) => ({ number: i })) });
  t.equal(p.length, 20);
  t.same(p.map((s) => s.split(':')[0]), Array.from({ length: 20 }, (_, i) => `contacts[${i}].number`), 'the first 20');
  t.end();
});

t.test(`at most MAX_CONTACTS (${MAX_CONTACTS})`, (t) => {
  t.equal(MAX_CONTACTS, 100_000);
  // the count is checked before any number is parsed, so 100,001 contacts cost little
  const over = problems({ json: Array.from({ length: MAX_CONTACTS + 1 }, (_, i) => ({ number: `+1212555${String(i % 10_000).padStart(4, '0')}` })) });
  t.equal(over.length, 1);
  t.match(over[0], /^contacts: .*100000.*100001/);
  const overCsv = problems({ csv: 'number\n' + 'x\n'.repeat(MAX_CONTACTS + 1) });
  t.equal(overCsv.length, 1);
  t.match(overCsv[0], /^contacts: .*100001/, 'CSV rows count the same');
  // exactly the limit passes ('x' is rejected by a regular expression before libphonenumber, so this is fast)
  const at = ok({ json: new Array<string>(MAX_CONTACTS).fill('x') });
  t.same([at.contacts.length, at.duplicates, at.invalid], [1, MAX_CONTACTS - 1, 1]);
  t.end();
});
