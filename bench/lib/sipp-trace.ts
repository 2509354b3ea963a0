/**
 * The INVITEs a sipp UAS received, with the time sipp read each one, from its `-trace_msg`
 * message file. sipp (3.6) heads every message with a line of dashes and its local wall time to
 * the microsecond (`----… 2026-03-04 14:00:00.123456`), then `UDP message received [N] bytes :`.
 * A retransmitted INVITE (same Call-ID) is counted once, at its first arrival. Pure.
 */

/** One INVITE as the trunk saw it. */
export interface TrunkInvite {
  /** Epoch ms (fractional) of sipp's read of the datagram. */
  atMs: number;
  /** The request URI's user part (the dialled number). */
  user: string;
  callId: string;
}

const HEAD = /^-{10,} (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})$/;

/** The INVITEs received in `text` (a sipp message file), in file order. */
export function parseSippInvites(text: string): TrunkInvite[] {
  const out: TrunkInvite[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = HEAD.exec(lines[i].trimEnd());
    if (!m || !lines[i + 1]?.includes('message received')) continue;
    // the start line follows one empty line
    const start = lines[i + 3] ?? '';
    const req = /^INVITE sip:([^@;\s]+)@/.exec(start);
    if (!req) continue;
    let callId = '';
    for (let j = i + 4; j < lines.length && j < i + 60 && lines[j].trim() !== ''; j++) {
      const h = /^(?:Call-ID|i)\s*:\s*(.+)$/i.exec(lines[j].trimEnd());
      if (h) { callId = h[1]; break; }
    }
    if (seen.has(callId)) continue;
    seen.add(callId);
    // sipp prints local time (its TZ is this process's)
    const atMs = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime() + Number(m[7]) / 1000;
    out.push({ atMs, user: req[1], callId });
  }
  return out;
}
