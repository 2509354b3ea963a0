/**
 * Calling windows: when a campaign may place a call, in the callee's local time. Pure functions
 * of (windows, zone, instant); local time comes from `Intl` through ./zoned-time.ts.
 *
 * A window opens on each allowed local day for the wall-clock times [start, end). Across a DST
 * change that means: a start inside the spring-forward gap opens at the end of the gap; in the
 * fall-back overlap the window's times happen twice and the window is open both times (the first
 * occurrence comes first, so nextOpen() lands there).
 */
import { DAY_MS, dateOfDay, dayOfDate, offsetChangeMs, wallMs, weekdayOfDay, zoneOffsetMs } from './zoned-time.js';

export { isTimeZone } from './zoned-time.js';

/** When a campaign may call a contact, in the contact's local time. */
export interface CallingWindow {
  /** Days of the week calls may be placed: 0 = Sunday … 6 = Saturday. */
  days: readonly number[];
  /** Local time the window opens, 'HH:MM' (24 h). */
  start: string;
  /** Local time it closes (exclusive), 'HH:MM', later than start ('24:00' allowed = end of day). No overnight windows. */
  end: string;
  /** First local date calls may be placed, 'YYYY-MM-DD', inclusive. */
  startDate?: string;
  /** Last local date calls may be placed, inclusive. */
  endDate?: string;
  /** Local dates with no calls at all ('YYYY-MM-DD'). */
  holidays?: readonly string[];
}

/** How far nextOpen() looks ahead, in local days. */
export const LOOKAHEAD_DAYS = 400;
/** Most windows in one list, and most holidays in one window (parseWindows). */
export const MAX_WINDOWS = 64;
export const MAX_HOLIDAYS = 1000;

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const START_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
const END_RE = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const DAY_NAMES: Readonly<Record<string, number>> = {
  sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6,
  sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6,
};
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['days', 'start', 'end', 'startDate', 'endDate', 'holidays']);

/** 'HH:MM' (already validated) as ms after local midnight. */
function timeOfDayMs(hhmm: string): number {
  const c = (i: number) => hhmm.charCodeAt(i) - 48;
  return (c(0) * 10 + c(1)) * HOUR_MS + (c(3) * 10 + c(4)) * MINUTE_MS;
}

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/**
 * Validates untrusted input (API JSON). Every problem is reported, each a sentence prefixed with
 * its field path (`windows[0].start: expected HH:MM …`). Days may be numbers 0–6 or English day
 * names ('mon' or 'monday', any case); they come back as sorted unique numbers. Optional fields
 * may be absent or null. Unknown fields are problems (a misspelt 'holiday' must not silently
 * allow calls on a holiday). The windows come back frozen.
 */
export function parseWindows(x: unknown, path = 'windows'): { ok: true; windows: CallingWindow[] } | { ok: false; problems: string[] } {
  if (!Array.isArray(x)) return { ok: false, problems: [`${path}: expected an array of calling windows`] };
  if (x.length > MAX_WINDOWS) return { ok: false, problems: [`${path}: expected at most ${MAX_WINDOWS} windows, got ${x.length}`] };
  const problems: string[] = [];
  const windows: CallingWindow[] = [];
  x.forEach((item: unknown, i) => {
    const w = parseWindow(item, `${path}[${i}]`, problems);
    if (w) windows.push(w);
  });
  return problems.length ? { ok: false, problems } : { ok: true, windows };
}

function parseWindow(item: unknown, p: string, problems: string[]): CallingWindow | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    problems.push(`${p}: expected an object { days, start, end, startDate?, endDate?, holidays? }`);
    return null;
  }
  const o = item as Record<string, unknown>;
  const before = problems.length;
  for (const k of Object.keys(o)) {
    if (!KNOWN_FIELDS.has(k)) problems.push(`${p}.${k}: unknown field (known: days, start, end, startDate, endDate, holidays)`);
  }

  const days = new Set<number>();
  if (!Array.isArray(o.days)) {
    problems.push(`${p}.days: expected an array of weekdays (0 = Sunday … 6 = Saturday, or names such as 'mon')`);
  } else {
    o.days.forEach((d: unknown, j) => {
      const n = typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 6 ? d
        : typeof d === 'string' && Object.hasOwn(DAY_NAMES, d.toLowerCase()) ? DAY_NAMES[d.toLowerCase()] : undefined;
      if (n === undefined) problems.push(`${p}.days[${j}]: expected a weekday 0–6 (0 = Sunday) or a day name 'sun' … 'sat', got ${show(d)}`);
      else days.add(n);
    });
  }

  const start = o.start, end = o.end;
  const startOk = typeof start === 'string' && START_RE.test(start);
  const endOk = typeof end === 'string' && END_RE.test(end);
  if (!startOk) problems.push(`${p}.start: expected HH:MM (24 h, 00:00 to 23:59), got ${show(start)}`);
  if (!endOk) problems.push(`${p}.end: expected HH:MM (24 h, 00:01 to 24:00), got ${show(end)}`);
  if (startOk && endOk && timeOfDayMs(end as string) <= timeOfDayMs(start as string)) {
    problems.push(`${p}.end: must be later than start ${start} (no overnight windows: use two windows)`);
  }

  const date = (k: 'startDate' | 'endDate'): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || dayOfDate(v) === null) { problems.push(`${p}.${k}: expected a date YYYY-MM-DD, got ${show(v)}`); return undefined; }
    return v;
  };
  const startDate = date('startDate');
  const endDate = date('endDate');
  if (startDate !== undefined && endDate !== undefined && endDate < startDate) {
    problems.push(`${p}.endDate: must not be before startDate ${startDate}`);
  }

  const holidays = new Set<string>();
  if (o.holidays !== undefined && o.holidays !== null) {
    if (!Array.isArray(o.holidays)) problems.push(`${p}.holidays: expected an array of dates YYYY-MM-DD`);
    else if (o.holidays.length > MAX_HOLIDAYS) problems.push(`${p}.holidays: expected at most ${MAX_HOLIDAYS} dates, got ${o.holidays.length}`);
    else {
      o.holidays.forEach((h: unknown, k) => {
        if (typeof h !== 'string' || dayOfDate(h) === null) problems.push(`${p}.holidays[${k}]: expected a date YYYY-MM-DD, got ${show(h)}`);
        else holidays.add(h);
      });
    }
  }

  if (problems.length > before) return null;
  return Object.freeze({
    days: Object.freeze([...days].sort((a, b) => a - b)),
    start: start as string,
    end: end as string,
    ...(startDate !== undefined ? { startDate } : {}),
    ...(endDate !== undefined ? { endDate } : {}),
    ...(holidays.size ? { holidays: Object.freeze([...holidays].sort()) } : {}),
  });
}

/** Whether window `w` allows local day `day` at all (weekday, date range, holidays). */
function allowsDay(w: CallingWindow, day: number, weekday: number, date: () => string): boolean {
  if (!w.days.includes(weekday)) return false;
  if (w.startDate === undefined && w.endDate === undefined && (w.holidays === undefined || w.holidays.length === 0)) return true;
  const d = date(); // 'YYYY-MM-DD' compares as a string
  if (w.startDate !== undefined && d < w.startDate) return false;
  if (w.endDate !== undefined && d > w.endDate) return false;
  return w.holidays === undefined || !w.holidays.includes(d);
}

/**
 * The wall time at which the windows open at wall time `wall` stop covering it (the latest end
 * among them: windows that all contain `wall` form one interval); null when none is open.
 */
function openUntilWall(windows: readonly CallingWindow[], wall: number): number | null {
  const day = Math.floor(wall / DAY_MS);
  const timeOfDay = wall - day * DAY_MS;
  const weekday = weekdayOfDay(day);
  let key: string | undefined;
  const date = () => (key ??= dateOfDay(day));
  let until: number | null = null;
  for (const w of windows) {
    const end = timeOfDayMs(w.end);
    if (timeOfDay < timeOfDayMs(w.start) || timeOfDay >= end || !allowsDay(w, day, weekday, date)) continue;
    if (until === null || day * DAY_MS + end > until) until = day * DAY_MS + end;
  }
  return until;
}

/**
 * Whether a call may start at instant `atMs` (ms since the epoch) for a callee in IANA zone
 * `timeZone`: true when any window is open. An empty list is always open. Windows are expected
 * as parseWindows() returns them. Throws RangeError for a zone Intl does not know (see isTimeZone).
 */
export function isOpen(windows: readonly CallingWindow[], timeZone: string, atMs: number): boolean {
  return windows.length === 0 || openUntilWall(windows, wallMs(timeZone, atMs)) !== null;
}

/**
 * The earliest instant >= notBeforeMs whose wall time lies in [wallStart, wallEnd) (one window on
 * one day, so at most one offset change is near: tzdata never has two within 3 days).
 */
function firstInstantIn(timeZone: string, wallStart: number, wallEnd: number, notBeforeMs: number): number | null {
  // Every instant showing a wall time in the window lies within a day of it (offsets < 24 h).
  const lo = wallStart - DAY_MS, hi = wallEnd + DAY_MS;
  const offBefore = zoneOffsetMs(timeZone, lo);
  const offAfter = zoneOffsetMs(timeZone, hi);
  if (offBefore === offAfter) {
    const t = Math.max(wallStart - offBefore, notBeforeMs);
    return t < wallEnd - offBefore ? t : null;
  }
  // A DST change: instants before it use offBefore, from it on offAfter. In a gap the window's
  // start shows up only as the change itself; in an overlap the earlier piece wins.
  const change = offsetChangeMs(timeZone, lo, hi);
  const a = Math.max(wallStart - offBefore, notBeforeMs);
  if (a < Math.min(wallEnd - offBefore, change)) return a;
  const b = Math.max(wallStart - offAfter, notBeforeMs, change);
  return b < wallEnd - offAfter ? b : null;
}

/**
 * The first instant >= atMs at which isOpen() is true: atMs itself when open now; null when no
 * window opens within LOOKAHEAD_DAYS local days (past every endDate, no days, …). Exact to the
 * millisecond, across DST changes (a start in the spring-forward gap opens at the gap's end; in
 * the fall-back overlap, at the first occurrence). Costs 2 offset look-ups (~1 µs each) per
 * allowed day and window scanned, plus ~18 on a DST-change day.
 */
export function nextOpen(windows: readonly CallingWindow[], timeZone: string, atMs: number): number | null {
  if (windows.length === 0) return atMs;
  const wall = wallMs(timeZone, atMs);
  if (openUntilWall(windows, wall) !== null) return atMs;

  // Later instants show wall times from the day before on (a fall-back moves the wall clock back
  // by hours, never a day); the windows' date ranges narrow the scan.
  let first = Math.floor(wall / DAY_MS) - 1;
  let last = first + 1 + LOOKAHEAD_DAYS;
  let from = Infinity, to = -Infinity;
  for (const w of windows) {
    from = Math.min(from, w.startDate === undefined ? -Infinity : dayOfDate(w.startDate) ?? -Infinity);
    to = Math.max(to, w.endDate === undefined ? Infinity : dayOfDate(w.endDate) ?? Infinity);
  }
  first = Math.max(first, from);
  last = Math.min(last, to);

  let best: number | null = null;
  let bestDay = 0;
  for (let day = first; day <= last; day++) {
    // A window on a later day shows later wall times; one more day covers a fall-back overlap.
    if (best !== null && day > bestDay + 1) break;
    const weekday = weekdayOfDay(day);
    let key: string | undefined;
    const date = () => (key ??= dateOfDay(day));
    for (const w of windows) {
      if (!allowsDay(w, day, weekday, date)) continue;
      const t = firstInstantIn(timeZone, day * DAY_MS + timeOfDayMs(w.start), day * DAY_MS + timeOfDayMs(w.end), atMs);
      if (t === null || (best !== null && t >= best)) continue;
      if (best === null) bestDay = day;
      best = t;
    }
  }
  return best;
}

/**
 * The instant the windows open at atMs stop being open (the earliest instant > atMs at which
 * isOpen() is false; adjoining windows, such as 09:00–12:00 and 12:00–17:00, count as one). null
 * when not open at atMs, and when it stays open for LOOKAHEAD_DAYS (an empty list never closes).
 */
export function closesAt(windows: readonly CallingWindow[], timeZone: string, atMs: number): number | null {
  if (windows.length === 0) return null;
  const limit = atMs + LOOKAHEAD_DAYS * DAY_MS;
  let at = atMs;
  while (at <= limit) {
    const offset = zoneOffsetMs(timeZone, at);
    const untilWall = openUntilWall(windows, at + offset);
    if (untilWall === null) return at === atMs ? null : at;
    // With this offset the wall clock reaches the end at untilWall - offset, unless a DST change
    // comes first: then go on from the change, with the new offset.
    let end = untilWall - offset;
    if (zoneOffsetMs(timeZone, end - 1) !== offset) end = offsetChangeMs(timeZone, at, end - 1);
    at = end;
  }
  return null;
}
