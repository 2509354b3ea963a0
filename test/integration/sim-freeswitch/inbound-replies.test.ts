import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../../src/clock.js';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { RawClient, replyText, type RawFrame } from './raw-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

async function setup(t: any, opts: Partial<ConstructorParameters<typeof FreeswitchTwin>[0]> = {}): Promise<{ tw: FreeswitchTwin; c: RawClient }> {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan'), ...opts });
  await tw.start();
  t.teardown(() => tw.close());
  const c = await RawClient.open(tw.port);
  t.teardown(() => c.close());
  return { tw, c };
}

/** Sends one command and returns the next frame. */
async function cmd(c: RawClient, text: string): Promise<RawFrame> {
  const n = c.frames.length;
  c.send(text);
  const all = await c.waitFrames(n + 1);
  return all[n];
}

t.test('auth/request, pre-auth rules, auth', async (t) => {
  const { c } = await setup(t);
  const [first] = await c.waitFrames(1);
  t.equal(first.raw.toString(), 'Content-Type: auth/request\n\n');
  t.equal((await cmd(c, 'api status\n\n')).raw.toString(), 'Content-Type: command/reply\nReply-Text: -ERR command not found\n\n');
  t.equal((await cmd(c, 'auth ClueCon\n\n')).raw.toString(), 'Content-Type: command/reply\nReply-Text: +OK accepted\n\n');
});

t.test('wrong password: -ERR invalid, 67-byte notice, close', async (t) => {
  const { c } = await setup(t);
  await c.waitFrames(1);
  c.send('auth nope\n\n');
  await c.waitEnd();
  t.equal(c.frames.length, 3);
  t.equal(c.frames[1].raw.toString(), 'Content-Type: command/reply\nReply-Text: -ERR invalid\n\n');
  t.equal(c.frames[2].raw.toString(), `Content-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`);
  t.equal(Buffer.byteLength(GOODBYE), 67);
});

t.test('ACL rejection', async (t) => {
  const { c } = await setup(t, { acl: ['10.0.0.0/8'] });
  await c.waitEnd();
  t.equal(Buffer.concat(c.bytes).toString(),
    'Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n'
    + `Content-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`);
});

t.test('exact reply texts', async (t) => {
  const { c } = await setup(t);
  await c.waitFrames(1);
  await cmd(c, 'auth ClueCon\n\n');
  const r = async (text: string): Promise<string | undefined> => replyText(await cmd(c, text));
  const api = async (text: string): Promise<string> => {
    const f = await cmd(c, text);
    t.same(f.names, ['Content-Type', 'Content-Length'], `api/response layout for ${text.trim()}`);
    t.equal(f.h['Content-Type'], 'api/response');
    return f.body;
  };
  t.equal(await r('noevents\n\n'), '-ERR not listening for events');
  t.equal(await r('nixevent CHANNEL_CREATE\n\n'), '+OK events nixed');
  t.equal(await r('noevents\n\n'), '+OK no longer listening for events');
  t.equal(await r('event json\n\n'), '-ERR no keywords supplied');
  t.equal(await r('event plain CHANNEL_ANSWER NOSUCH\n\n'), '+OK event listener enabled plain');
  t.equal(await r('event json ALL\n\n'), '+OK event listener enabled json');
  t.equal(await r('noevents\n\n'), '+OK no longer listening for events');
  t.equal(await r('linger\n\n'), '-ERR not controlling a session');
  t.equal(await r('nolinger\n\n'), '-ERR not controlling a session');
  t.equal(await r('nolog\n\n'), '-ERR not loging');
  t.equal(await r('log\n\n'), '+OK log level  [7]');
  t.equal(await r('log info\n\n'), '+OK log level info [6]');
  t.equal(await r('log bogus\n\n'), '-ERR invalid log level');
  t.equal(await r('nolog\n\n'), '+OK no longer logging');
  t.equal(await r('filter Unique-ID abc\n\n'), '+OK filter added. [Unique-ID]=[abc]');
  t.equal(await r('filter delete Unique-ID abc\n\n'), '+OK filter deleted. [Unique-ID][abc]');
  t.equal(await r('filter nonsense\n\n'), '-ERR invalid syntax');
  t.equal(await r('divert_events on\n\n'), '-ERR not controlling a session.');
  t.equal(await r('sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: hangup\n\n'), '-ERR invalid session id [00000000-0000-0000-0000-000000000000]');
  t.equal(await r('myevents 00000000-0000-0000-0000-000000000000 json\n\n'), '-ERR invalid uuid');
  t.equal(await r('nosuchcmd\n\n'), '-ERR command not found');
  t.match(await r('sendevent CUSTOM\nEvent-Subclass: x::y\n\n'), /^\+OK [0-9a-f-]{36}$/);
  t.equal(await api('api nosuchcmd\n\n'), '-ERR nosuchcmd Command not found!\n');
  t.equal(await api('api uuid_exists 00000000-0000-0000-0000-000000000000\n\n'), 'false');
  t.equal(await api('api module_exists mod_audio_stream\n\n'), 'true');
  t.equal(await api('api uuid_kill 00000000-0000-0000-0000-000000000000\n\n'), '-ERR No such channel!\n');
  t.equal(await api('api uuid_getvar 00000000-0000-0000-0000-000000000000 x\n\n'), '-ERR No such channel!\n');
  t.equal(await api('api uuid_broadcast 00000000-0000-0000-0000-000000000000 /tmp/x.wav aleg\n\n'), '-ERR invalid uuid\n');
  t.equal(await api('api originate sofia/external/9999@127.0.0.1:5080 &park\n\n'), '-ERR CHAN_NOT_IMPLEMENTED\n');
  t.equal(await api('api originate\n\n'), '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n');
  // Real FreeSWITCH 1.10.12 (test/real/differential-esl.real.test.ts): printed by hand, with a space and a newline.
  t.equal(await api('api show channels as json\n\n'), '{"row_count": 0}\n');
  const st = await api('api status\n\n');
  t.match(st, /^UP 0 years, 0 days, 0 hours, 0 minutes, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?\nFreeSWITCH \(Version 1\.10\.12-release  64bit\) is ready\n/);
  // originate + per-uuid commands with captured texts
  const orig = await api('api originate loopback/9999/default &park\n\n');
  t.match(orig, /^\+OK [0-9a-f-]{36}\n$/);
  t.equal(Buffer.byteLength(orig), 41);
  const uuid = orig.slice(4, 40);
  t.equal(await api(`api uuid_exists ${uuid}\n\n`), 'true');
  t.equal(await api(`api uuid_setvar ${uuid} STREAM_BUFFER_SIZE 100\n\n`), '+OK\n');
  t.equal(await api(`api uuid_getvar ${uuid} STREAM_BUFFER_SIZE\n\n`), '100');
  t.equal(await api(`api uuid_getvar ${uuid} channel_name\n\n`), 'loopback/9999-a');
  t.equal(await api(`api uuid_getvar ${uuid} nosuchvar\n\n`), '_undef_');
  t.equal(await api(`api uuid_broadcast ${uuid} silence_stream://40 aleg\n\n`), '+OK Message sent\n');
  t.equal(await api(`api uuid_send_dtmf ${uuid} 12#\n\n`), `+OK ${uuid} sent DTMF 12#.\n`);
  t.equal(await api(`api uuid_break ${uuid} all\n\n`), '+OK\n');
  const dump = await api(`api uuid_dump ${uuid}\n\n`);
  t.match(dump, /^Event-Name: CHANNEL_DATA\nCore-UUID: /);
  t.match(dump, /\nChannel-State: CS_EXECUTE\nChannel-Call-State: ACTIVE\nChannel-State-Number: 4\nChannel-Name: loopback\/9999-a\n/);
  t.ok(dump.endsWith('\n\n'));
  const show = await api('api show channels\n\n');
  t.match(show, /^uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,/);
  t.match(show, /\n\n2 total\.\n$/);
  const js = JSON.parse(await api('api show channels as json\n\n'));
  t.equal(js.row_count, 2);
  t.equal(await api(`api uuid_kill ${uuid}\n\n`), '+OK\n');
  t.equal(await api('api uuid_audio_stream\n\n') !== '', true);
  const bye = await cmd(c, 'exit\n\n');
  t.equal(bye.raw.toString(), 'Content-Type: command/reply\nReply-Text: +OK bye\n\n');
  await c.waitEnd();
  t.equal(c.frames[c.frames.length - 1].raw.toString(), `Content-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`);
});

t.test('bgapi: reply with Job-UUID header, BACKGROUND_JOB after it, no Job-Owner-UUID', async (t) => {
  const { c } = await setup(t);
  await c.waitFrames(1);
  await cmd(c, 'auth ClueCon\n\n');
  await cmd(c, 'event plain BACKGROUND_JOB\n\n');
  const reply = await cmd(c, 'bgapi status\njob-uuid: my-job-1\n\n');
  t.equal(reply.raw.toString(), 'Content-Type: command/reply\nReply-Text: +OK Job-UUID: my-job-1\nJob-UUID: my-job-1\n\n');
  const ev = await c.waitFor((f) => f.h['Content-Type'] === 'text/event-plain');
  t.same(ev.names, ['Content-Length', 'Content-Type']);
  const inner = ev.body;
  t.match(inner, /^Event-Name: BACKGROUND_JOB\n/);
  t.notMatch(inner, /Job-Owner-UUID/);
  t.match(inner, /\nJob-UUID: my-job-1\nJob-Command: status\nContent-Length: \d+\n\nUP 0 years/);
  const j2 = await cmd(c, 'bgapi originate loopback/9999/default &park\n\n');
  const id = j2.h['Job-UUID'];
  t.match(j2.h['Reply-Text'], /^\+OK Job-UUID: [0-9a-f-]{36}$/);
  const ev2 = await c.waitFor((f) => f.body.includes(`Job-UUID: ${id}`));
  t.match(ev2.body, /\nJob-Command: originate\nJob-Command-Arg: loopback\/9999\/default%20%26park\nContent-Length: 41\n\n\+OK [0-9a-f-]{36}\n$/);
});

t.test('content-length out of range drops the connection', async (t) => {
  const { c } = await setup(t);
  await c.waitFrames(1);
  await cmd(c, 'auth ClueCon\n\n');
  c.send('sendevent CUSTOM\nContent-Length: 16777217\n\n');
  await c.waitEnd();
  t.equal(c.frames.length, 2, 'no reply, no notice');
});

t.test('no command within 25 s: disconnect notice and close', async (t) => {
  const clock = new ManualClock();
  const { c } = await setup(t, { clock });
  await c.waitFrames(1);
  clock.advance(24_999);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(c.ended, false, 'still open before 25 s');
  clock.advance(1);
  await c.waitEnd();
  t.equal(c.frames[1].raw.toString(), `Content-Type: text/disconnect-notice\nContent-Length: 67\n\n${GOODBYE}`);
});
