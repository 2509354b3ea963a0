import t from 'tap';
import { readdirSync } from 'node:fs';
import { EslFrameParser } from '../../../src/esl/frame-parser.js';
import { eventFromFrame, parseJsonEvent } from '../../../src/esl/events.js';
import { safeUrlDecode } from '../../../src/esl/url-decode.js';
import { fixture, FIXTURES } from './scripted-fs.js';

function eventOf(path: string) {
  const { frames } = new EslFrameParser().feed(fixture(path));
  return eventFromFrame(frames[0]);
}

t.test('every captured json and plain event becomes an FsEvent of the right name', async (t) => {
  for (const dir of ['esl/events-json', 'esl/events-plain']) {
    for (const file of readdirSync(`${FIXTURES}/${dir}`)) {
      const ev = eventOf(`${dir}/${file}`);
      const base = file.replace(/\.raw$/, '');
      if (base.startsWith('CUSTOM-')) {
        t.equal(ev?.name, 'CUSTOM', `${dir}/${file}`);
        t.equal(ev?.subclass, base.slice(7).replace('-', '::'), `${dir}/${file} subclass`);
      } else {
        t.equal(ev?.name, base, `${dir}/${file}`);
      }
    }
  }
});

t.test('json and plain forms of the same event agree', async (t) => {
  for (const file of readdirSync(`${FIXTURES}/esl/events-plain`)) {
    const j = eventOf(`esl/events-json/${file}`);
    const p = eventOf(`esl/events-plain/${file}`);
    if (!j || !p || j.headers['Event-Sequence'] !== p.headers['Event-Sequence']) continue;
    t.equal(p.uuid, j.uuid, `${file} uuid`);
    t.equal(p.body, j.body, `${file} body`);
    t.equal(p.headers['Caller-Caller-ID-Name'], j.headers['Caller-Caller-ID-Name'], `${file} decoded value`);
  }
});

t.test('CHANNEL_HANGUP_COMPLETE with Hangup-Cause twice', async (t) => {
  const ev = eventOf('esl/events-json/CHANNEL_HANGUP_COMPLETE.raw')!;
  t.equal(ev.headers['Hangup-Cause'], 'NORMAL_CLEARING');
  t.equal(ev.uuid, '9e618bfe-e3e8-45c2-b09b-8378acf1019e');
});

t.test('mod_audio_stream::play carries the file in its body', async (t) => {
  const ev = eventOf('esl/events-json/CUSTOM-mod_audio_stream-play.raw')!;
  t.match(JSON.parse(ev.body!), { audioDataType: 'raw', sampleRate: 8000 });
});

t.test('bad event bodies are rejected, not thrown', async (t) => {
  t.equal(parseJsonEvent('{not json'), undefined);
  t.equal(parseJsonEvent('[1,2]'), undefined);
  t.equal(parseJsonEvent('{"Core-UUID":"x"}'), undefined, 'no Event-Name');
});

t.test('safeUrlDecode never throws', async (t) => {
  t.equal(safeUrlDecode('%2BOK%0A'), '+OK\n');
  t.equal(safeUrlDecode('100%'), '100%');
  t.equal(safeUrlDecode('%zz%4'), '%zz%4');
  t.equal(safeUrlDecode('caf%C3%A9'), 'café');
  t.equal(safeUrlDecode('%E9t%E9'), '\ufffdt\ufffd', 'latin-1 bytes that decodeURIComponent throws on');
  t.throws(() => decodeURIComponent('%E9'), 'what modesl would do');
});
