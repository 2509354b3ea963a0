/**
 * A scripted stand-in for FreeSWITCH's inbound Event Socket, for unit tests: it replays captured reply
 * texts (fixtures/real-freeswitch/esl/api-replies.txt) and lets a test push raw bytes. Not a twin.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { CAPTURES } from '../../helpers/fixtures.js';

export const FIXTURES = CAPTURES;
export const fixture = (p: string): Buffer => readFileSync(`${FIXTURES}/${p}`);

/** Splits a captured stream into its frames (exact bytes), using Content-Length. */
export function splitFrames(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\n\n', pos);
    if (end < 0) throw new Error('bad fixture');
    const head = buf.toString('utf8', pos, end);
    const m = /^Content-Length: (\d+)$/m.exec(head);
    const len = m ? Number(m[1]) : 0;
    out.push(buf.subarray(pos, end + 2 + len));
    pos = end + 2 + len;
  }
  return out;
}

export const DISCONNECT_NOTICE =
  'Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

export function reply(text: string): string {
  return `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
}

export function backgroundJob(jobUuid: string, command: string, body: string): string {
  const json = JSON.stringify({
    'Event-Name': 'BACKGROUND_JOB', 'Core-UUID': '0ab1ca88-d9d0-4290-9a32-033b29940c76', 'Event-Sequence': '1',
    'Job-UUID': jobUuid, 'Job-Owner-UUID': '', 'Job-Command': command.split(' ')[0],
    'Job-Command-Arg': command.split(' ').slice(1).join(' '),
    'Content-Length': String(Buffer.byteLength(body)), _body: body,
  });
  return `Content-Length: ${Buffer.byteLength(json)}\nContent-Type: text/event-json\n\n${json}`;
}

export interface ScriptOptions {
  password?: string;
  /** Output of a bgapi job; null = never send the BACKGROUND_JOB. Default `+OK\n`. */
  bgapi?: (command: string) => string | null;
  /** Called after auth succeeded on a connection. */
  onAuthed?: (conn: Socket, index: number) => void;
  /** Reply-Text for a command after auth instead of the scripted one; undefined = scripted. */
  replyText?: (line: string) => string | undefined;
}

/** One scripted FreeSWITCH. `commands[i]` lists the commands received on connection i. */
export class ScriptedFs {
  readonly commands: string[][] = [];
  readonly sockets: Socket[] = [];
  private server: Server | null = null;
  port = 0;

  constructor(private readonly opts: ScriptOptions = {}) {}

  async listen(port = 0): Promise<number> {
    this.server = createServer((s) => this.onConnection(s));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  get connections(): number { return this.commands.length; }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private onConnection(s: Socket): void {
    const index = this.commands.length;
    const cmds: string[] = [];
    this.commands.push(cmds);
    this.sockets.push(s);
    s.on('error', () => {});
    let buf = '';
    s.write('Content-Type: auth/request\n\n');
    s.on('data', (d) => {
      buf += d.toString('utf8');
      for (;;) {
        const end = buf.indexOf('\n\n');
        if (end < 0) return;
        const text = buf.slice(0, end);
        buf = buf.slice(end + 2);
        cmds.push(text);
        this.answer(s, text, index);
      }
    });
  }

  private answer(s: Socket, text: string, index: number): void {
    const [line, ...headers] = text.split('\n');
    if (line.startsWith('auth ')) {
      if (line.slice(5) === (this.opts.password ?? 'ClueCon')) {
        s.write(reply('+OK accepted'));
        this.opts.onAuthed?.(s, index);
      } else {
        s.write(reply('-ERR invalid'));
        s.end(DISCONNECT_NOTICE);
      }
      return;
    }
    const scripted = this.opts.replyText?.(line);
    if (scripted !== undefined) {
      s.write(reply(scripted));
      return;
    }
    if (line.startsWith('event ')) {
      s.write(reply('+OK event listener enabled json'));
      return;
    }
    const filter = /^filter (delete )?(\S+) (.+)$/.exec(line);
    if (filter) {
      s.write(reply(filter[1] ? `+OK filter deleted. [${filter[2]}][${filter[3]}]` : `+OK filter added. [${filter[2]}]=[${filter[3]}]`));
      return;
    }
    if (line.startsWith('bgapi ')) {
      const jobHeader = headers.find((h) => h.toLowerCase().startsWith('job-uuid: '));
      const job = jobHeader ? jobHeader.slice(10) : 'generated-job';
      s.write(`Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${job}\nJob-UUID: ${job}\n\n`);
      const cmd = line.slice(6);
      const out = this.opts.bgapi ? this.opts.bgapi(cmd) : '+OK\n';
      if (out !== null) s.write(backgroundJob(job, cmd, out));
      return;
    }
    s.write(reply('-ERR command not found'));
  }
}

/** Polls `pred` on real time until true; bounded (fails the caller after ~5 s). */
export async function waitFor(pred: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}
