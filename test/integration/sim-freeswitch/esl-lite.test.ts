import t from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeSwitchClient } from 'esl-lite';
import { pino } from 'pino';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';

const here = dirname(fileURLToPath(import.meta.url));

t.test('esl-lite: bgapi status, bgapi originate, events, command_uuid, hangup_uuid', async (t) => {
  const tw = new FreeswitchTwin({ port: 0, dialplanDir: join(here, 'dialplan') });
  await tw.start();
  t.teardown(() => tw.close());
  const client = new FreeSwitchClient({ host: '127.0.0.1', port: tw.port, password: 'ClueCon', logger: pino({ level: 'silent' }) });
  t.teardown(() => client.end());
  const answered: string[] = [];
  client.on('CHANNEL_ANSWER', (msg) => { answered.push(String(msg.body.uniqueID)); });
  const hungUp = new Promise<string>((r) => client.on('CHANNEL_HANGUP_COMPLETE', (msg) => r(String(msg.body.data['Hangup-Cause']))));

  const st = await client.bgapi('status', 5000);
  if (st instanceof Error) throw st;
  t.match(String(st.body.response), /FreeSWITCH \(Version 1\.10\.12-release  64bit\) is ready/);

  const res = await client.bgapi('originate loopback/9999/default &park', 5000);
  if (res instanceof Error) throw res;
  const body = String(res.body.response);
  t.match(body, /^\+OK [0-9a-f-]{36}\n$/);
  const uuid = body.slice(4, 40);

  const pb = await client.command_uuid(uuid, 'playback', 'silence_stream://60', 5000);
  if (pb instanceof Error) throw pb;
  t.equal(pb.body.data['Application-Response'], 'FILE PLAYED');
  for (let i = 0; i < 100 && !answered.includes(uuid); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(answered.includes(uuid), 'CHANNEL_ANSWER of the A leg seen');
  const hu = await client.hangup_uuid(uuid, 'USER_BUSY', 5000);
  t.notOk(hu instanceof Error, 'hangup_uuid accepted');
  t.equal(await hungUp, 'USER_BUSY');
});
