/**
 * Wall-clock time in an IANA zone, from `Intl` alone (no date library). A "wall" value is the
 * local date and time written as milliseconds since 1970-01-01T00:00 local, so that local days
 * and times of day are plain integer arithmetic: `wall = instant + offset(instant)`.
 */

/** Milliseconds in a (wall-clock) day. */
export const DAY_MS = 86_400_000;

/** Which numeric field each digit run of `format()` holds, in output order. */
type Field = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

interface ZoneFormatter {
  readonly fmt: Intl.DateTimeFormat;
  readonly order: readonly Field[];
}

// One formatter per zone: constructing one costs ~80 µs, using one ~1 µs. Zones are few (the
// contacts' zones), so the memo stays small; it holds only immutable objects.
const formatters = new Map<string, ZoneFormatter>();
const FIELDS: ReadonlySet<string> = new Set<Field>(['year', 'month', 'day', 'hour', 'minute', 'second']);

function formatterOf(timeZone: string): ZoneFormatter {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    // format() is 3x cheaper than formatToParts(); learn the order of its digit runs once
    // instead of assuming the locale's layout (ICU versions differ in the literals).
    const order = fmt.formatToParts(0).filter((p) => FIELDS.has(p.type)).map((p) => p.type as Field);
    f = { fmt, order };
    formatters.set(timeZone, f);
  }
  return f;
}

// Names Intl accepted: only valid names are kept, so untrusted input cannot grow the set.
const knownZones = new Set<string>();

/** Whether `tz` is a time zone this Node's Intl knows (IANA names, including aliases such as Asia/Calcutta). */
export function isTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '' || tz.length > 64) return false;
  if (knownZones.has(tz)) return true;
  try {
    // Not cached as a formatter: validating every zone of the number data must not keep ~300 of them.
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return false;
  }
  knownZones.add(tz);
  return true;
}

/**
 * The offset of `timeZone` from UTC at instant `atMs`, in ms (local = UTC + offset). Whole
 * seconds, as every tzdata offset is. Throws RangeError for a zone Intl does not know.
 */
export function zoneOffsetMs(timeZone: string, atMs: number): number {
  const { fmt, order } = formatterOf(timeZone);
  const s = fmt.format(atMs);
  let year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  let field = 0;
  for (let i = 0; i < s.length && field < order.length;) {
    let c = s.charCodeAt(i);
    if (c < 48 || c > 57) { i++; continue; }
    let v = 0;
    while (c >= 48 && c <= 57) { v = v * 10 + c - 48; c = s.charCodeAt(++i); }
    switch (order[field++]) {
      case 'year': year = v; break;
      case 'month': month = v; break;
      case 'day': day = v; break;
      case 'hour': hour = v; break;
      case 'minute': minute = v; break;
      case 'second': second = v; break;
    }
  }
  const wholeSecond = atMs - (((atMs % 1000) + 1000) % 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecond;
}

/** The wall-clock time of instant `atMs` in `timeZone` (see the file comment). */
export function wallMs(timeZone: string, atMs: number): number {
  return atMs + zoneOffsetMs(timeZone, atMs);
}

/**
 * The first instant in (loMs, hiMs] whose offset differs from the offset at loMs, given that
 * the offset at hiMs differs. Assumes one change in between (true for any span of days in
 * tzdata). Binary search over whole seconds: ~18 steps for 3 days.
 */
export function offsetChangeMs(timeZone: string, loMs: number, hiMs: number): number {
  const before = zoneOffsetMs(timeZone, loMs);
  // Offsets change at whole seconds, so loMs's second and hiMs's second each have one offset.
  let lo = Math.floor(loMs / 1000); // offset === before
  let hi = Math.floor(hiMs / 1000); // offset !== before
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (zoneOffsetMs(timeZone, mid * 1000) === before) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}

/** The day number (days since 1970-01-01) of a date 'YYYY-MM-DD'; null when it is not a real calendar date of years 1000-9999. */
export function dayOfDate(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m === null) return null;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > 31) return null;
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls 02-30 over to March: the round trip shows it.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / DAY_MS;
}

/** The date 'YYYY-MM-DD' of a day number (years 1000-9999). */
export function dateOfDay(day: number): string {
  const d = new Date(day * DAY_MS);
  const m = d.getUTCMonth() + 1, dd = d.getUTCDate();
  return `${d.getUTCFullYear()}-${m < 10 ? '0' : ''}${m}-${dd < 10 ? '0' : ''}${dd}`;
}

/** The weekday of a day number: 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOfDay(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}
