import t from 'tap';
import { readFileSync } from 'node:fs';
import { classifyServerText } from '../../../../src/sim/freeswitch/audio-stream/server-message.js';
import { CAPTURES } from '../../../helpers/fixtures.js';

const seen = JSON.parse(readFileSync(CAPTURES + '/esl/custom-events-seen.json', 'utf8')) as Array<{ sub: string; body: string }>;

t.test('streamAudio raw → play body as captured', async (t) => {
  const dir = '/usr/local/freeswitch/var/cache/freeswitch';
  const uuid = '9e618bfe-e3e8-45c2-b09b-8378acf1019e';
  const m = classifyServerText(JSON.stringify({ type: 'streamAudio', data: { audioDataType: 'raw', sampleRate: 8000, audioData: Buffer.alloc(16000, 1).toString('base64') } }));
  t.equal(m.kind, 'play');
  if (m.kind !== 'play') return;
  t.equal(m.ext, 'r8');
  t.equal(m.audio.length, 16000);
  const plays = seen.filter((e) => e.sub === 'mod_audio_stream::play').map((e) => e.body);
  t.equal(m.playBody(`${dir}/${uuid}_0.tmp.r8`), plays[0]);
  const m16 = classifyServerText('{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":16000,"audioData":"AAAA"}}');
  t.equal(m16.kind === 'play' && m16.playBody(`${dir}/${uuid}_1.tmp.r16`), plays[1]);
});

t.test('key order kept, audioData removed, file last', async (t) => {
  const m = classifyServerText('{"type":"streamAudio","data":{"x":1,"audioData":"AAAA","audioDataType":"wav","y":"z"}}');
  t.equal(m.kind === 'play' && m.playBody('/t/f.wav'), '{"x":1,"audioDataType":"wav","y":"z","file":"/t/f.wav"}');
  t.equal(m.kind === 'play' && m.ext, 'wav');
});

t.test('everything else → json with the text unchanged', async (t) => {
  const texts = [
    '{"type":"hello","n":1}',
    '{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":11025,"audioData":"AAAA"}}',
    'just some text, not json',
    '{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":"8000","audioData":"AAAA"}}',
    '{"type":"streamAudio","data":{"audioDataType":"flac","audioData":"AAAA"}}',
    '{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":8000}}',
    '{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":8000,"audioData":"%%%"}}',
    '{"type":"streamAudio","data":"x"}',
    '[1,2]',
  ];
  for (const s of texts) t.same(classifyServerText(s), { kind: 'json', body: s });
  const jsons = seen.filter((e) => e.sub === 'mod_audio_stream::json').map((e) => e.body);
  for (const j of jsons) t.same(classifyServerText(j), { kind: 'json', body: j });
});
