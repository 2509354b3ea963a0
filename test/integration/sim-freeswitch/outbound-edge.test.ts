import t from 'tap';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { RawClient } from './raw-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

async function setup(t: any): Promise<{ tw: FreeswitchTwin; port: number; next: () => Promise<RawClient>; watch: RawClient }> {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
  await tw.start();
  t.teardown(() => tw.close());
  const pending: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  const srv = createServer({ allowHalfOpen: true }, (s) => { const w = waiters.shift(); if (w) w(s); else pending.push(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  const watch = await RawClient.open(tw.port);
  t.teardown(() => watch.close());
  await watch.waitFrames(1);
  watch.send('auth ClueCon\n\nevent json CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE\n\n');
  await watch.waitFrames(3);
  return {
    tw,
    port: (srv.address() as AddressInfo).port,
    watch,
    next: async () => {
      const s = pending.shift() ?? await new Promise<Socket>((r) => waiters.push(r));
      const c = new RawClient(s);
      t.teardown(() => c.close());
      return c;
    },
  };
}

const ev = (body: string): Record<string, string> => (body.startsWith('{') ? JSON.parse(body) as Record<string, string> : {});

t.test('first command other than connect is processed without a reply; resume continues the dialplan', async (t) => {
  const { tw, port, next, watch } = await setup(t);
  const p = tw.originate(`{test_socket_port=${port}}loopback/8085/default &park`);
  const c = await next();
  c.send('myevents\n\n');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(c.frames.length, 0, 'no reply to the first non-connect command');
  c.send('connect\n\n');
  const [reply] = await c.waitFrames(1);
  t.equal(reply.h['Event-Name'], 'CHANNEL_DATA');
  c.send('myevents\n\n');
  const again = await c.waitFor((f) => f.h['Content-Type'] === 'command/reply' && f.h['Event-Name'] === undefined);
  t.equal(again.h['Reply-Text'], '-ERR aready enabled.', 'the swallowed myevents was processed');
  c.send('resume\n\nsendmsg\ncall-command: execute\nexecute-app-name: answer\n\n');
  t.match(await p, /^\+OK /);
  const uuid = reply.h['Unique-ID'];
  c.socket.end();
  await c.waitEnd();
  const setEv = await watch.waitFor((f) => { const o = ev(f.body); return o['Unique-ID'] === uuid && o['Event-Name'] === 'CHANNEL_EXECUTE' && o.Application === 'set'; });
  t.equal(ev(setEv.body)['Application-Data'], 'after_socket=yes', 'dialplan resumed after the socket closed');
  await watch.waitFor((f) => { const o = ev(f.body); return o['Unique-ID'] === uuid && o['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE'; });
});

t.test('without resume the call ends when the socket closes', async (t) => {
  const { tw, port, next, watch } = await setup(t);
  const p = tw.originate(`{test_socket_port=${port}}loopback/8085/default &park`);
  const c = await next();
  c.send('connect\n\nsendmsg\ncall-command: execute\nexecute-app-name: answer\n\n');
  const [reply] = await c.waitFrames(1);
  const uuid = reply.h['Unique-ID'];
  t.match(await p, /^\+OK /);
  c.close();
  const hc = await watch.waitFor((f) => { const o = ev(f.body); return o['Unique-ID'] === uuid && o['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE'; });
  t.equal(ev(hc.body)['variable_hangup_cause'], 'NORMAL_CLEARING');
  t.notOk(watch.frames.some((f) => { const o = ev(f.body); return o['Unique-ID'] === uuid && o.Application === 'set'; }), 'no further dialplan actions');
});

t.test('static, not full: restricted commands, sendmsg runs inline', async (t) => {
  const { tw, port, next } = await setup(t);
  const p = tw.originate(`{test_socket_port=${port}}loopback/8086/default &park`);
  const c = await next();
  c.send('connect\n\n');
  const [reply] = await c.waitFrames(1);
  t.ok(reply.raw.toString().endsWith('Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: static\nControl: single-channel\n\n'));
  const ask = async (cmd: string): Promise<string | undefined> => {
    const n = c.frames.length;
    c.send(cmd);
    return (await c.waitFrames(n + 1))[n].h['Reply-Text'];
  };
  t.equal(await ask('api status\n\n'), '-ERR command not found');
  t.equal(await ask('linger\n\n'), '-ERR command not found');
  t.equal(await ask('event plain ALL\n\n'), '-ERR command not found');
  t.equal(await ask('getvar channel_name\n\n'), 'loopback/8086-b');
  t.equal(await ask('myevents\n\n'), '+OK Events Enabled');
  t.equal(await ask('sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n'), '+OK');
  t.match(await p, /^\+OK /);
  t.equal(await ask('sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: silence_stream://60\n\n'), '+OK');
  const done = c.frames.findIndex((f) => f.body.includes('Event-Name: CHANNEL_EXECUTE_COMPLETE') && f.body.includes('Application: playback'));
  const okIdx = c.frames.length - 1;
  t.ok(done < 0 || done > okIdx - 5, 'reply written once the application finished');
  c.send('sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n');
  await c.waitEnd();
  const last = c.frames[c.frames.length - 1];
  t.equal(last.raw.toString(), `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${reply.h['Unique-ID']}\nContent-Disposition: disconnect\nContent-Length: 67\n\n${GOODBYE}`);
  t.ok(c.frames.some((f) => f.body.startsWith('Event-Name: CHANNEL_HANGUP_COMPLETE')), 'events flushed before the notice');
});

t.test('channel hung up before connect: disconnect notice only', async (t) => {
  const { tw, port, next } = await setup(t);
  const p = tw.originate(`{test_socket_port=${port},originate_timeout=1}loopback/8084/default &park`);
  const c = await next();
  t.equal(await p, '-ERR NO_ANSWER\n');
  await c.waitEnd();
  t.equal(c.frames.length, 1);
  t.match(c.frames[0].raw.toString(), /^Content-Type: text\/disconnect-notice\nControlled-Session-UUID: [0-9a-f-]{36}\nContent-Disposition: disconnect\nContent-Length: 67\n\n/);
  t.same(tw.channels(), []);
});

t.test('uuid_transfer of a socket-controlled channel: park ends, no hang-up, new extension runs', async (t) => {
  const { tw, port, next, watch } = await setup(t);
  const p = tw.originate(`{test_socket_port=${port}}loopback/8084/default &park`);
  const c = await next();
  c.send('connect\n\nsendmsg\ncall-command: execute\nexecute-app-name: answer\n\n');
  const [reply] = await c.waitFrames(1);
  const uuid = reply.h['Unique-ID'];
  t.match(await p, /^\+OK /);
  t.equal(await tw.api(`uuid_transfer ${uuid} 9999 XML default`), '+OK\n');
  const pb = await watch.waitFor((f) => { const o = ev(f.body); return o['Unique-ID'] === uuid && o['Event-Name'] === 'CHANNEL_EXECUTE' && o.Application === 'playback'; });
  t.ok(pb, 'extension 9999 runs after the transfer');
  t.ok(tw.channels().some((ch) => ch.uuid === uuid), 'still up');
  t.equal(await tw.api(`uuid_kill ${uuid}`), '+OK\n');
  await c.waitEnd();
});
