/**
 * A deterministic campaign contact list for benchmarks: valid numbers of eight zones (New York,
 * Chicago, London, Berlin, Paris, Madrid, São Paulo, India: one eighth each, in turn), written as
 * people write them (a quarter of the New York ones nationally, `(212) 234-0001`, for
 * defaultCountry US; the others international with spaces), each with two variables. Pure.
 */

/** The zone each eighth of the list (index % 8) gets from its number. */
export const CONTACT_ZONES = [
  'America/New_York', 'America/Chicago', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'Europe/Madrid', 'America/Sao_Paulo', 'Asia/Calcutta',
] as const;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The `i`-th number as written in the list (unique for i < 8 × 800 × 10 000). */
export function contactNumber(i: number): string {
  const k = Math.floor(i / 8);
  switch (i % 8) {
    case 0: {
      const exchange = 200 + (k % 800);
      const line = pad(Math.floor(k / 800), 4);
      return k % 4 === 0 ? `(212) ${exchange}-${line}` : `+1 212 ${exchange} ${line}`;
    }
    case 1: return `+1 312 ${200 + (k % 800)} ${pad(Math.floor(k / 800), 4)}`;
    case 2: return `+44 20 7${pad(k, 7)}`;
    case 3: return `+49 30 1${pad(k, 7)}`;
    case 4: return `+33 1 4${pad(k, 7)}`;
    case 5: return `+34 91${pad(k, 7)}`;
    case 6: return `+55 11 98${pad(k, 7)}`;
    default: return `+91 98${pad(k, 8)}`;
  }
}

/** The list as CSV text: header `number,name,account`, then `count` rows. */
export function contactsCsv(count: number): string {
  const lines = new Array<string>(count + 1);
  lines[0] = 'number,name,account';
  for (let i = 0; i < count; i++) lines[i + 1] = `${contactNumber(i)},Customer ${i},A${pad(i, 6)}`;
  return lines.join('\n');
}

/** The same list as the JSON body's `contacts` array would carry it. */
export function contactsJson(count: number): string {
  const rows = new Array<{ number: string; vars: { name: string; account: string } }>(count);
  for (let i = 0; i < count; i++) rows[i] = { number: contactNumber(i), vars: { name: `Customer ${i}`, account: `A${pad(i, 6)}` } };
  return JSON.stringify(rows);
}
