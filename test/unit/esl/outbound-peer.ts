/**
 * Plays FreeSWITCH's side of an outbound socket (`socket 127.0.0.1:8084 async full`) for unit tests,
 * replaying captured bytes from fixtures/real-freeswitch/outbound-socket/.
 */
import { connect, type Socket } from 'node:net';
import { fixture, splitFrames } from './scripted-fs.js';

export const SOFIA_UUID = '90c10a4c-35b3-46f1-9bfe-62c375d7a685';
export const sofiaFrames = (): Buffer[] => splitFrames(fixture('outbound-socket/sofia-json-all-received.raw'));
export const CONNECT_REPLY = (): Buffer => fixture('outbound-socket/sofia-json-connect-reply.raw');

export const reply = (text: string): string => `Content-Type: command/reply\nReply-Text: ${text}\n\n`;

export type Handler = (cmd: string, peer: OutboundPeer) => void;

/** Default script: answer every command the way FreeSWITCH 1.10.12 did in the capture. */
export const defaultScript: Handler = (cmd, p) => {
  const line = cmd.split('\n')[0];
  if (line === 'connect') p.write(CONNECT_REPLY());
  else if (line.startsWith('event ')) p.write(reply('+OK event listener enabled json'));
  else if (line === 'myevents json') p.write(reply('+OK Events Enabled'));
  else if (line === 'linger') p.write(reply('+OK will linger'));
  else if (line === 'sendmsg') p.write(reply('+OK'));
  else p.write(reply('-ERR command not found'));
};

export class OutboundPeer {
  readonly commands: string[] = [];
  readonly socket: Socket;
  closed = false;
  private buf = '';

  constructor(port: number, private readonly handler: Handler = defaultScript) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('error', () => {});
    this.socket.on('close', () => { this.closed = true; });
    this.socket.on('data', (d) => {
      this.buf += d.toString('utf8');
      for (;;) {
        const end = this.buf.indexOf('\n\n');
        if (end < 0) return;
        const cmd = this.buf.slice(0, end);
        this.buf = this.buf.slice(end + 2);
        this.commands.push(cmd);
        this.handler(cmd, this);
      }
    });
  }

  /** Writes bytes, cutting each frame between the two LFs of its header terminator. */
  write(data: Buffer | string): void {
    if (this.socket.destroyed) return;
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const cut = b.indexOf('\n\n');
    if (cut < 0) { this.socket.write(b); return; }
    this.socket.write(b.subarray(0, cut + 1));
    this.socket.write(b.subarray(cut + 1));
  }

  close(): void { this.socket.destroy(); }
}

/** The captured CHANNEL_EXECUTE_COMPLETE of `answer`, re-targeted at `eventUuid` (same length). */
export function executeComplete(frameIndex: number, eventUuid: string): Buffer {
  const f = sofiaFrames()[frameIndex];
  const m = /"Application-UUID":"([0-9a-f-]{36})"/.exec(f.toString('utf8'));
  if (!m || eventUuid.length !== 36) throw new Error('fixture changed');
  return Buffer.from(f.toString('utf8').replace(m[1], eventUuid), 'utf8');
}
