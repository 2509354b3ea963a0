import t from 'tap';
import { API_REPLY, parseStreamApi, STREAM_API_SYNTAX } from '../../../../src/sim/freeswitch/audio-stream/api-command.js';

const U = '9e618bfe-e3e8-45c2-b09b-8378acf1019e';

t.test('usage text is the captured one', async (t) => {
  // esl/api-replies.txt: Content-Length 147
  t.equal(API_REPLY.usage, '-USAGE: <uuid> [start | stop | send_text | pause | resume | graceful-shutdown ] [wss-url | path] [mono | mixed | stereo] [8000 | 16000] [metadata]\n');
  t.equal(Buffer.byteLength(API_REPLY.usage), 147);
  t.ok(API_REPLY.usage.includes(STREAM_API_SYNTAX));
  t.equal(API_REPLY.ok, '+OK Success\n');
  t.equal(API_REPLY.fail, '-ERR Operation Failed\n');
});

t.test('usage cases', async (t) => {
  t.same(parseStreamApi(''), { kind: 'usage' });
  t.same(parseStreamApi(U), { kind: 'usage' });
  t.same(parseStreamApi(`${U} start ws://h/x`), { kind: 'usage' });
  // the usage check compares "start" case-sensitively; START with too few args is a failure instead
  const r = parseStreamApi(`${U} START ws://h/x`);
  t.equal(r.kind, 'call');
});

t.test('start: url, mix, rate, metadata (rest of line)', async (t) => {
  const r = parseStreamApi(`${U} start ws://127.0.0.1:8090/play mono 8k {"meta":"start", "n":1}`);
  t.same(r, {
    kind: 'call', uuid: U,
    action: { op: 'start', target: { secure: false, host: '127.0.0.1', port: 8090, pathAndQuery: '/play' }, mix: 'mono', rateHz: 8000, metadata: '{"meta":"start", "n":1}' },
  });
  const r2 = parseStreamApi(`${U} start wss://example.com/a?b=1 stereo 16k`);
  t.match(r2, { kind: 'call', action: { op: 'start', target: { secure: true, host: 'example.com', port: 443, pathAndQuery: '/a?b=1' }, mix: 'stereo', rateHz: 16000, metadata: undefined } });
  t.match(parseStreamApi(`${U} start ws://h mixed 24000`), { action: { op: 'start', rateHz: 24000, target: { port: 80, pathAndQuery: '/' } } });
  t.match(parseStreamApi(`${U} start ws://h mono`), { action: { op: 'start', rateHz: 8000 } });
});

t.test('start rejections', async (t) => {
  const reply = (s: string): string | undefined => {
    const r = parseStreamApi(s);
    return r.kind === 'call' && r.action.op === 'reject' ? r.action.reply : undefined;
  };
  t.equal(reply(`${U} start notaurl mono 8k`), API_REPLY.fail);
  t.equal(reply(`${U} start ws://127.0.0.1:8090/x mono 11k`), API_REPLY.fail);
  t.equal(reply(`${U} start ws://h/x mono 44000`), API_REPLY.fail); // issue #89
  t.equal(reply(`${U} start http://h/x mono 8k`), API_REPLY.fail);
  t.equal(reply(`${U} start ws://[::1]:80/x mono 8k`), API_REPLY.fail);
  t.equal(reply(`${U} start ws://h_x/ mono 8k`), API_REPLY.fail);
  t.equal(reply(`${U} start ws://h:abc/ mono 8k`), API_REPLY.fail);
  // the module jumps past the reply for a bad mix type: empty body
  t.equal(reply(`${U} start ws://h/x quad 8k`), API_REPLY.silent);
  t.equal(reply(`${U} graceful-shutdown`), API_REPLY.fail);
  t.equal(reply(`${U} bogus`), API_REPLY.fail);
});

t.test('stop / send_text take one token; ^^| and quotes keep spaces', async (t) => {
  t.match(parseStreamApi(`${U} stop {"bye": true}`), { action: { op: 'stop', text: '{"bye":' } });
  t.match(parseStreamApi(`${U} stop`), { action: { op: 'stop', text: undefined } });
  t.match(parseStreamApi(`^^|${U}|send_text|{"a": "b c"}`), { action: { op: 'send_text', text: '{"a": "b c"}' } });
  t.match(parseStreamApi(`${U} send_text 'hello there'`), { action: { op: 'send_text', text: 'hello there' } });
  t.match(parseStreamApi(`${U} send_text`), { action: { op: 'reject', reply: '' } });
  t.match(parseStreamApi(`${U} PAUSE`), { action: { op: 'pause' } });
  t.match(parseStreamApi(`${U} resume`), { action: { op: 'resume' } });
  t.match(parseStreamApi(`${U} send_text \ud800`), { action: { op: 'reject', reply: '' } });
});
