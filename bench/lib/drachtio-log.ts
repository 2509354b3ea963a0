/**
 * The INVITEs drachtio-server received and sent, with its own timestamps, from its log at
 * loglevel `info` (which logs every SIP message: `2026-03-04 14:00:00.123456 recv 895 bytes from
 * udp/[127.0.0.1]:39604 at 14:00:00.123400:`, then the message). Used to split a dial's latency
 * into the part before FreeSWITCH's INVITE reached drachtio-server and the B2BUA's part. Pure.
 */

/** One INVITE through drachtio-server. */
export interface DrachtioInvite {
  dir: 'recv' | 'send';
  /** The peer's UDP port (the sender's for recv, the destination's for send). */
  peerPort: number;
  /** The request URI's user part. */
  user: string;
  /** Epoch ms (fractional) of drachtio's `at` time (local time, on the date of the log line). */
  atMs: number;
}

const HEAD = /^(\d{4})-(\d{2})-(\d{2}) [\d:.]+ (recv|send) \d+ bytes (?:from|to) udp\/\[[^\]]+\]:(\d+) at (\d{2}):(\d{2}):(\d{2})\.(\d{6}):$/;

/** The INVITE requests in `text` (a drachtio.log), in log order; retransmissions included. */
export function parseDrachtioInvites(text: string): DrachtioInvite[] {
  const out: DrachtioInvite[] = [];
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const m = HEAD.exec(lines[i].trimEnd());
    if (!m) continue;
    const req = /^INVITE sip:([^@;\s]+)@/.exec(lines[i + 1]);
    if (!req) continue;
    const atMs = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[6]), Number(m[7]), Number(m[8])).getTime() + Number(m[9]) / 1000;
    out.push({ dir: m[4] as 'recv' | 'send', peerPort: Number(m[5]), user: req[1], atMs });
  }
  return out;
}
