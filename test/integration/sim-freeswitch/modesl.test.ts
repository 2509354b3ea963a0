import t from 'tap';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';

const require = createRequire(import.meta.url);
const esl = require('modesl') as any;
const here = dirname(fileURLToPath(import.meta.url));

async function twin(t: any): Promise<FreeswitchTwin> {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
  await tw.start();
  t.teardown(() => tw.close());
  return tw;
}

function connect(t: any, port: number, password = 'ClueCon'): Promise<any> {
  return new Promise((resolve) => {
    const c = new esl.Connection('127.0.0.1', port, password, () => resolve(c));
    t.teardown(() => { try { c.disconnect(); } catch { /* closed */ } });
  });
}

t.test('modesl: auth and api status', async (t) => {
  const tw = await twin(t);
  const c = await connect(t, tw.port);
  const res: any = await new Promise((r) => c.api('status', r));
  const body: string = res.getBody();
  t.match(body, /^UP 0 years, 0 days, 0 hours, 0 minutes, \d+ seconds?, /);
  t.match(body, /\nFreeSWITCH \(Version 1\.10\.12-release  64bit\) is ready\n/);
});

t.test('modesl: bgapi originate gives BACKGROUND_JOB with +OK uuid, then events', async (t) => {
  const tw = await twin(t);
  const c = await connect(t, tw.port);
  await new Promise((r) => c.events('plain', 'CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE', r));
  const creates: string[] = [];
  c.on('esl::event::CHANNEL_CREATE::*', (e: any) => creates.push(e.getHeader('Channel-Name')));
  const job: any = await new Promise((r) => c.bgapi('originate', 'loopback/9999/default &park', r));
  const body: string = job.getBody();
  t.match(body, /^\+OK [0-9a-f-]{36}\n$/);
  const uuid = body.slice(4, 40);
  t.same(tw.channels().map((ch) => ch.name).sort(), ['loopback/9999-a', 'loopback/9999-b']);
  const hc = new Promise<any>((r) => c.on('esl::event::CHANNEL_HANGUP_COMPLETE::*', (e: any) => { if (e.getHeader('Unique-ID') === uuid) r(e); }));
  const kill: any = await new Promise((r) => c.api('uuid_kill', uuid, r));
  t.equal(kill.getBody(), '+OK\n');
  const ev = await hc;
  t.equal(ev.getHeader('Hangup-Cause'), 'NORMAL_CLEARING');
  t.same(creates.sort(), ['loopback/9999-a', 'loopback/9999-b']);
});

t.test('modesl: wrong password is refused', async (t) => {
  const tw = await twin(t);
  const c = new esl.Connection('127.0.0.1', tw.port, 'nope');
  c.on('error', () => undefined);
  const failP = new Promise<any>((r) => c.on('esl::event::auth::fail', r));
  const noticeP = new Promise<any>((r) => c.on('esl::event::disconnect::notice', r));
  const endP = new Promise((r) => c.on('esl::end', r));
  t.equal((await failP).getHeader('Reply-Text'), '-ERR invalid');
  t.equal((await noticeP).getBody(), 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
  await endP;
});

t.test('modesl Server receives a dialplan-triggered call, answers and hangs up', async (t) => {
  const tw = await twin(t);
  const raw = createServer();
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
  const port = (raw.address() as AddressInfo).port;
  const server = new esl.Server({ server: raw, myevents: true });
  t.teardown(() => new Promise((r) => server.close(r)));
  const got = new Promise<any>((resolve) => {
    server.on('connection::ready', (conn: any) => {
      const data = conn.getInfo();
      conn.execute('answer', '', () => {
        conn.execute('hangup', 'NORMAL_CLEARING', () => undefined);
      });
      resolve({ conn, name: data.getHeader('Channel-Name'), dest: data.getHeader('Channel-Destination-Number') });
    });
  });
  const res = await tw.originate(`{test_socket_port=${port}}loopback/8084/default &park`);
  t.match(res, /^\+OK [0-9a-f-]{36}\n$/);
  const { name, dest } = await got;
  t.equal(name, 'loopback/8084-b');
  t.equal(dest, '8084');
  for (let i = 0; i < 200 && tw.channels().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(tw.channels().length, 0);
});
