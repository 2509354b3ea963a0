import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { framesOf, jsonNames, plainNames, RawClient, type RawFrame } from './raw-client.js';
import { CAPTURES } from '../../helpers/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const CAP = CAPTURES + '/outbound-socket/';
const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

/** A short label per frame: connect reply, reply text, api body, event name, notice kind. */
function kind(f: RawFrame): string {
  if (f.h['Event-Name'] === 'CHANNEL_DATA') return 'connect-reply';
  const ct = f.h['Content-Type'];
  if (ct === 'command/reply') return `reply:${f.h['Reply-Text']}`;
  if (ct === 'api/response') return 'api';
  if (ct === 'text/event-plain') return `event:${/^Event-Name: (\S+)/.exec(f.body)?.[1]}`;
  if (ct === 'text/event-json') return `event:${(JSON.parse(f.body) as Record<string, string>)['Event-Name']}`;
  if (ct === 'text/disconnect-notice') return `notice:${f.h['Content-Disposition']}`;
  return `other:${ct}`;
}

async function outboundServer(t: any): Promise<{ port: number; next: () => Promise<RawClient> }> {
  const pending: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  const srv = createServer((s) => { const w = waiters.shift(); if (w) w(s); else pending.push(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return {
    port: (srv.address() as AddressInfo).port,
    next: async () => {
      const s = pending.shift() ?? await new Promise<Socket>((r) => waiters.push(r));
      const c = new RawClient(s);
      t.teardown(() => c.close());
      return c;
    },
  };
}

for (const fmt of ['plain', 'json'] as const) {
  t.test(`outbound socket replay (${fmt}): same frame sequence and connect-reply layout as the capture`, async (t) => {
    const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
    await tw.start();
    t.teardown(() => tw.close());
    const { port, next } = await outboundServer(t);
    const originated = tw.originate(`{test_socket_port=${port}}loopback/8084/default &park`);
    const c = await next();
    c.send('connect\n\n');
    const [reply] = await c.waitFrames(1);
    const uuid = reply.h['Unique-ID'];
    c.send(`myevents${fmt === 'json' ? ' json' : ''}\n\nlinger\n\n`
      + 'sendmsg\ncall-command: execute\nexecute-app-name: answer\nevent-lock: true\n\n'
      + 'sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: tone_stream://%(600,0,440)\nevent-lock: true\n\n'
      + `api uuid_getvar ${uuid} channel_name\n\ngetvar channel_name\n\n`);
    t.match(await originated, /^\+OK [0-9a-f-]{36}\n$/);
    await c.waitFor((f) => kind(f) === 'event:CHANNEL_EXECUTE_COMPLETE' && f.body.includes('playback'));
    c.send('sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n');
    await c.waitFor((f) => kind(f) === 'notice:linger');
    c.socket.end();
    await c.waitEnd();

    const capName = fmt === 'plain' ? 'loopback-plain' : 'sofia-json';
    const cap = framesOf(readFileSync(`${CAP}${capName}-all-received.raw`));
    // The SIP leg of the json capture also has CHANNEL_PROGRESS_MEDIA; a loopback leg has none.
    // Its getvar reply names the SIP channel.
    const capKinds = cap.map(kind).filter((k) => k !== 'event:CHANNEL_PROGRESS_MEDIA')
      .map((k) => (k === 'reply:sofia/external/0000000000@127.0.0.1' ? 'reply:loopback/8084-b' : k));
    t.same(c.frames.map(kind), capKinds, 'frame sequence');
    const api = c.frames.find((f) => kind(f) === 'api');
    t.equal(api?.raw.toString(), 'Content-Type: api/response\nContent-Length: 15\n\nloopback/8084-b');
    const gv = c.frames.find((f) => kind(f) === 'reply:loopback/8084-b');
    t.equal(gv?.raw.toString(), 'Content-Type: command/reply\nReply-Text: loopback/8084-b\n\n');
    const linger = c.frames[c.frames.length - 2];
    t.equal(linger.raw.toString(), `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${uuid}\nContent-Disposition: linger\nChannel-Name: loopback/8084-b\nLinger-Time: -1\nContent-Length: 0\n\n`);
    const last = c.frames[c.frames.length - 1];
    t.equal(last.raw.toString(), `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${uuid}\nContent-Disposition: disconnect\nContent-Length: 67\n\n${GOODBYE}`);

    // connect reply: header-only, no Content-Length, Content-Type near the end, layout as captured.
    const capReply = framesOf(readFileSync(`${CAP}loopback-plain-connect-reply.raw`))[0];
    const strip = (names: string[]): string[] => names.filter((n) => n !== 'variable_test_socket_port');
    t.same(strip(reply.names), capReply.names, 'connect reply header names in order');
    t.ok(reply.raw.toString().endsWith('Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n'));
    t.notOk('Content-Length' in reply.h);

    const hc = c.frames.find((f) => kind(f) === 'event:CHANNEL_HANGUP_COMPLETE');
    const names = fmt === 'json' ? jsonNames(hc?.body ?? '') : plainNames(hc?.body ?? '');
    t.equal(names.filter((n) => n === 'Hangup-Cause').length, 2, 'Hangup-Cause twice');
    const ex = c.frames.find((f) => kind(f) === 'event:CHANNEL_EXECUTE_COMPLETE' && f.body.includes('socket'));
    t.ok(ex, 'socket application completes after the hang-up');
  });
}
