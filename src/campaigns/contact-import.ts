import { parseCsv } from './csv-reader.js';
import { isTimeZone } from './calling-window.js';
import { numberTimezones, toE164 } from './number-timezone.js';

/** Most contacts in one campaign. */
export const MAX_CONTACTS = 100_000;
/** Most custom variables per contact, and their size. */
const MAX_VARS = 50;
const MAX_VAR_CHARS = 1000;

/** A contact ready to store: its number in E.164 (or as given when invalid). */
export interface ImportedContact {
  number: string;
  /** Its own zone: given, else from its number (null: the campaign's). */
  timeZone: string | null;
  vars: Record<string, string> | null;
  /** `invalid`: the number is not a valid phone number (kept, never dialled). */
  valid: boolean;
}

export type ImportResult =
  | { ok: true; contacts: ImportedContact[]; duplicates: number; invalid: number }
  | { ok: false; problems: string[] };

/** At most this many problems are reported (a bad file would otherwise give 100,000). */
const MAX_PROBLEMS = 20;

/**
 * Contacts from the API: a JSON array of `{ number, timeZone?, vars? }`, or CSV text whose header
 * names a `number` column, an optional `timeZone` (or `timezone`) column, and any other columns as
 * the contact's variables. Numbers are normalised to E.164 (`defaultCountry` for those without
 * '+'); a number given twice is kept once; an invalid number is kept as `invalid`.
 */
export function importContacts(input: { json?: unknown; csv?: string }, defaultCountry?: string): ImportResult {
  const read = readRaw(input);
  if (!read.ok) return read;
  const acc = new Accumulator(defaultCountry);
  acc.take(read.raw, 0, read.raw.length);
  return acc.result();
}

/** Contacts normalised at a time before the event loop gets a turn ({@link importContactsYielding}). */
const SLICE = 2000;

/**
 * importContacts() for the API: the same result, with the event loop let run between slices of
 * contacts (normalising 100,000 numbers takes over a second of CPU).
 */
export async function importContactsYielding(input: { json?: unknown; csv?: string }, defaultCountry?: string): Promise<ImportResult> {
  const read = readRaw(input);
  if (!read.ok) return read;
  const acc = new Accumulator(defaultCountry);
  for (let at = 0; at < read.raw.length && !acc.full; at += SLICE) {
    if (at > 0) await new Promise<void>((r) => setImmediate(r));
    acc.take(read.raw, at, Math.min(read.raw.length, at + SLICE));
  }
  return acc.result();
}

interface RawContact { number: unknown; timeZone: unknown; vars: unknown; where: string }

/** The contacts of a request as given (CSV parsed), before any check of their fields. */
function readRaw(input: { json?: unknown; csv?: string }): { ok: true; raw: RawContact[] } | { ok: false; problems: string[] } {
  const raw: RawContact[] = [];
  if (input.csv !== undefined) {
    const parsed = parseCsv(input.csv);
    if (!parsed.ok) return { ok: false, problems: [`contacts CSV: ${parsed.problem}`] };
    const [header, ...rows] = parsed.rows;
    const cols = (header ?? []).map((h) => h.trim());
    const numberAt = cols.indexOf('number');
    if (numberAt < 0) return { ok: false, problems: ['contacts CSV: the header must name a "number" column'] };
    const tzAt = cols.findIndex((c) => c === 'timeZone' || c === 'timezone');
    rows.forEach((r, i) => {
      const vars: Record<string, string> = {};
      cols.forEach((c, j) => { if (j !== numberAt && j !== tzAt && c !== '' && r[j] !== undefined && r[j] !== '') vars[c] = r[j]; });
      raw.push({ number: r[numberAt], timeZone: tzAt >= 0 && r[tzAt] ? r[tzAt] : undefined, vars: Object.keys(vars).length ? vars : undefined, where: `contacts CSV line ${parsed.lines[i + 1]}` });
    });
  } else if (Array.isArray(input.json)) {
    input.json.forEach((c, i) => {
      const o = (typeof c === 'string' ? { number: c } : c ?? {}) as Record<string, unknown>;
      raw.push({ number: o.number, timeZone: o.timeZone, vars: o.vars, where: `contacts[${i}]` });
    });
  } else {
    return { ok: false, problems: ['contacts: expected an array of { number, timeZone?, vars? } (or contactsCsv: CSV text)'] };
  }
  if (raw.length > MAX_CONTACTS) return { ok: false, problems: [`contacts: at most ${MAX_CONTACTS} per campaign (got ${raw.length})`] };
  return { ok: true, raw };
}

/** Checks and normalises contacts, slice by slice, into one result. */
class Accumulator {
  private readonly zones = numberTimezones();
  private readonly seen = new Set<string>();
  private readonly contacts: ImportedContact[] = [];
  private readonly problems: string[] = [];
  private duplicates = 0;
  private invalid = 0;
  constructor(private readonly defaultCountry: string | undefined) {}

  /** Whether enough problems were found to answer. */
  get full(): boolean { return this.problems.length >= MAX_PROBLEMS; }

  take(raw: readonly RawContact[], from: number, to: number): void {
    const problems = this.problems;
    for (let i = from; i < to && !this.full; i++) {
      const r = raw[i];
      if (typeof r.number !== 'string' || r.number.trim() === '' || r.number.length > 64) { problems.push(`${r.where}.number: expected a phone number`); continue; }
      if (r.timeZone !== undefined && (typeof r.timeZone !== 'string' || !isTimeZone(r.timeZone))) { problems.push(`${r.where}.timeZone: expected an IANA time zone`); continue; }
      const vars = checkVars(r.vars, r.where, problems);
      if (vars === false) continue;
      const e164 = toE164(r.number, this.defaultCountry);
      // an invalid number is kept as given, less the spaces around it (a CSV cell after ', ')
      const number = e164 ?? r.number.trim();
      if (this.seen.has(number)) { this.duplicates++; continue; }
      this.seen.add(number);
      if (!e164) this.invalid++;
      this.contacts.push({ number, timeZone: (r.timeZone as string | undefined) ?? (e164 ? this.zones.zoneOf(e164) : null), vars, valid: e164 !== null });
    }
  }

  result(): ImportResult {
    if (this.problems.length) return { ok: false, problems: this.problems };
    return { ok: true, contacts: this.contacts, duplicates: this.duplicates, invalid: this.invalid };
  }
}

function checkVars(v: unknown, where: string, problems: string[]): Record<string, string> | null | false {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) { problems.push(`${where}.vars: expected an object of strings`); return false; }
  const entries = Object.entries(v);
  if (entries.length > MAX_VARS) { problems.push(`${where}.vars: at most ${MAX_VARS} variables`); return false; }
  for (const [k, x] of entries) {
    if (typeof x !== 'string' || x.length > MAX_VAR_CHARS || k.length > 100) { problems.push(`${where}.vars.${k}: expected a string of at most ${MAX_VAR_CHARS} characters`); return false; }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
