/** A frame as written by FreeSWITCH: header block and optional body, written separately. */
export interface Frame { readonly head: Buffer; readonly body?: Buffer }

/** The 67-byte farewell of mod_event_socket's send_disconnect. */
export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
/** Body of the shutdown notice. */
export const SHUTDOWN_NOTICE = 'The system is being shut down.\n';

const frame = (head: string, body?: string | Buffer): Frame => ({
  head: Buffer.from(head, 'utf8'),
  body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
});

export const authRequestFrame = (): Frame => frame('Content-Type: auth/request\n\n');

/** `Content-Type: command/reply\nReply-Text: <text>\n\n`, plus extra header lines (bgapi's Job-UUID). */
export function replyFrame(text: string, extra: readonly (readonly [string, string])[] = []): Frame {
  let h = `Content-Type: command/reply\nReply-Text: ${text}\n`;
  for (const [k, v] of extra) h += `${k}: ${v}\n`;
  return frame(h + '\n');
}

/** `api/response`: Content-Type first, then Content-Length (captured). */
export function apiResponseFrame(body: string): Frame {
  const b = Buffer.from(body, 'utf8');
  return frame(`Content-Type: api/response\nContent-Length: ${b.length}\n\n`, b);
}

/** Event frames: Content-Length first, then Content-Type (captured). */
export function eventFrame(format: 'plain' | 'json' | 'xml', serialized: string): Frame {
  const b = Buffer.from(serialized, 'utf8');
  return frame(`Content-Length: ${b.length}\nContent-Type: text/event-${format}\n\n`, b);
}

/** Disconnect notice: inbound form, or session-bound form with Controlled-Session-UUID. */
export function disconnectFrame(body: string, sessionUuid?: string): Frame {
  const b = Buffer.from(body, 'utf8');
  const head = sessionUuid === undefined
    ? `Content-Type: text/disconnect-notice\nContent-Length: ${b.length}\n\n`
    : `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${sessionUuid}\nContent-Disposition: disconnect\nContent-Length: ${b.length}\n\n`;
  return frame(head, b);
}

/** The linger notice sent when a lingering session's channel hangs up (captured). */
export function lingerFrame(sessionUuid: string, channelName: string, lingerTime: number): Frame {
  return frame(
    `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${sessionUuid}\nContent-Disposition: linger\nChannel-Name: ${channelName}\nLinger-Time: ${lingerTime}\nContent-Length: 0\n\n`,
  );
}

/** ACL rejection (24-byte body). */
export const rudeRejectionFrame = (): Frame => frame('Content-Type: text/rude-rejection\nContent-Length: 24\n\n', 'Access Denied, go away.\n');

/** A raw header-only block (the outbound connect reply). */
export const rawFrame = (text: string): Frame => frame(text);
