import type { StoredCall } from './call-rows.js';

/** The columns of the call history CSV export, in order. */
export const CALL_CSV_COLUMNS = [
  'callId', 'state', 'direction', 'bot', 'from', 'to', 'offeredAt', 'answeredAt', 'connectedAt', 'endedAt',
  'durationMs', 'billableMs', 'cause', 'causeCode', 'endedBy', 'sipStatus', 'result', 'transferTarget', 'errorCode', 'answeredBy', 'fsUuid', 'nodeId',
] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell that a
 * spreadsheet would run as a formula (=, @, a tab, or + / - not followed by a digit) is prefixed
 * with an apostrophe; phone numbers such as +4420... stay as they are.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=@\t\r]/.test(s) || /^[+-][^0-9]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return CALL_CSV_COLUMNS.join(',') + '\r\n';
}

export function csvRow(c: StoredCall): string {
  const rec = c as unknown as Record<string, unknown>;
  return CALL_CSV_COLUMNS.map((k) => csvCell(rec[k])).join(',') + '\r\n';
}
