import t from 'tap';
import { classifyApiBody, parseExistsReply, parseGetvarReply, parseOriginateReply, parseShowChannelsJson } from '../../../src/esl/command-result.js';
import { buildCommand } from '../../../src/esl/commands.js';

// Reply bodies exactly as captured (esl/api-replies.txt).
t.test('captured api replies classify as FreeSWITCH meant them', async (t) => {
  t.match(classifyApiBody('+OK Success\n'), { ok: true, value: 'Success' });
  t.match(classifyApiBody('+OK Message sent\n'), { ok: true, value: 'Message sent' });
  t.match(classifyApiBody('+OK\n'), { ok: true, value: '' });
  t.match(classifyApiBody('-ERR Operation Failed\n'), { ok: false, code: 'ESL_COMMAND_FAILED', reply: '-ERR Operation Failed' });
  t.match(classifyApiBody('-USAGE: <uuid> [start | stop | send_text | pause | resume | graceful-shutdown ] [wss-url | path] [mono | mixed | stereo] [8000 | 16000] [metadata]\n'), { ok: false, code: 'ESL_COMMAND_FAILED' });
  t.match(parseOriginateReply('+OK 9e618bfe-e3e8-45c2-b09b-8378acf1019e\n'), { ok: true, value: '9e618bfe-e3e8-45c2-b09b-8378acf1019e' });
  t.match(parseOriginateReply('-ERR NO_ANSWER\n'), { ok: false, code: 'ESL_COMMAND_FAILED' });
  t.match(parseGetvarReply('loopback/8084-b'), { ok: true, value: 'loopback/8084-b' });
  t.match(parseGetvarReply('_undef_'), { ok: true, value: undefined });
  t.match(parseExistsReply('true'), { ok: true, value: true });
  t.match(parseExistsReply('false\n'), { ok: true, value: false });
});

t.test('show channels as json', async (t) => {
  t.match(parseShowChannelsJson('{"row_count":0}'), { ok: true, value: [] });
  t.match(parseShowChannelsJson('{"row_count":2,"rows":[{"uuid":"a"},{"uuid":"b"}]}'), { ok: true, value: ['a', 'b'] });
  t.match(parseShowChannelsJson('-ERR x'), { ok: false, code: 'ESL_RECONCILE_FAILED' });
});

t.test('command builders refuse arguments that break framing', async (t) => {
  t.equal(buildCommand.uuidKill('u-1', 'NORMAL_CLEARING'), 'uuid_kill u-1 NORMAL_CLEARING');
  t.equal(buildCommand.uuidKill('u 1', 'NORMAL_CLEARING'), undefined);
  t.equal(buildCommand.uuidSetvar('u', 'a', 'x\nauth y'), undefined);
  t.equal(buildCommand.audioStreamStart('u', 'ws://127.0.0.1:8090/a', 'mono', 16000, '{"a":1}'), 'uuid_audio_stream u start ws://127.0.0.1:8090/a mono 16k {"a":1}');
  t.equal(buildCommand.audioStreamStart('u', 'ws://x', 'mono', 11025), undefined, 'rates must be multiples of 8000');
  const meta = buildCommand.audioStreamStart('u', 'ws://x', 'mono', 8000, '{"caller": "Ann O\'Neil", "n": 1}')!;
  t.equal(meta, 'uuid_audio_stream u start ws://x mono 8k {"caller":"Ann\\u0020O\\u0027Neil","n":1}', 'spaces and quotes escaped');
  t.same(JSON.parse(meta.split(' ').pop()!), { caller: "Ann O'Neil", n: 1 }, 'same value after decoding');
  t.equal(buildCommand.audioStreamStart('u', 'ws://x', 'mono', 8000, '{not json'), undefined);
  t.equal(buildCommand.uuidBroadcast('u', '/tmp/a.r8', 'aleg'), 'uuid_broadcast u /tmp/a.r8 aleg');
  t.equal(buildCommand.uuidSendDtmf('u', '12#'), 'uuid_send_dtmf u 12#');
  t.equal(buildCommand.originate('loopback/9999/default', '&park'), 'originate loopback/9999/default &park');
  t.equal(buildCommand.originate('{a=1}sofia/fsbridge/sip:1@h:5060', '&socket(${fsbridge_outbound_socket} async full)'),
    "originate {a=1}sofia/fsbridge/sip:1@h:5060 '&socket(${fsbridge_outbound_socket} async full)'", 'an app with spaces is single-quoted');
  t.equal(buildCommand.originate('loopback/9', "&playback('x y')"), undefined, 'a quote inside the app would break the grouping');
  t.equal(buildCommand.originate('sofia/a b', '&park'), undefined);
});
