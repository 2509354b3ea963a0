import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildHandshakeRequest, checkHandshakeResponse, parseExtraHeaders } from '../../../../src/sim/freeswitch/audio-stream/handshake.js';
import { parseWsUrl } from '../../../../src/sim/freeswitch/audio-stream/ws-url.js';
import { CAPTURES } from '../../../helpers/fixtures.js';

const FIX = CAPTURES + '/audio-stream/raw';

function keyOf(req: Buffer): string {
  const m = /Sec-WebSocket-Key:([A-Za-z0-9+/=]+)\r\n/.exec(req.toString('latin1'));
  if (!m) throw new Error('no key in capture');
  return m[1]!;
}

for (const [file, url] of [['handshake-request.bin', 'ws://127.0.0.1:8092/raw?x=1'], ['handshake-request-noclose.bin', 'ws://127.0.0.1:8092/raw-noclose']] as const) {
  t.test(`request bytes equal ${file}`, async (t) => {
    const cap = readFileSync(`${FIX}/${file}`);
    const target = parseWsUrl(url);
    t.ok(target);
    const built = buildHandshakeRequest(target!, keyOf(cap));
    t.equal(built.toString('latin1'), cap.toString('latin1'));
    t.ok(built.equals(cap));
  });
}

t.test('extra headers follow Origin, without spaces', async (t) => {
  const target = parseWsUrl('ws://h:1/p')!;
  const req = buildHandshakeRequest(target, 'k', parseExtraHeaders('{"Authorization":"Bearer x","X-Num":5,"X-A":"b"}')).toString('latin1');
  t.match(req, /Origin:http:\/\/h:1\r\nAuthorization:Bearer x\r\nX-A:b\r\n\r\n$/);
  t.same(parseExtraHeaders('not json'), []);
  t.same(parseExtraHeaders('[1]'), []);
  t.same(parseExtraHeaders(undefined), []);
  t.same(parseExtraHeaders('{"Bad\\r\\nName":"x","ok":"a\\r\\nb"}'), []);
});

t.test('response check at every split offset: accept value not verified', async (t) => {
  const resp = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nsec-websocket-accept: not-verified\r\n\r\n\x81\x02hi', 'latin1');
  for (let i = 0; i <= resp.length; i++) {
    const a = checkHandshakeResponse(resp.subarray(0, i));
    if (i < resp.length - 4) t.equal(a.state, 'incomplete', `prefix ${i}`);
  }
  const r = checkHandshakeResponse(resp);
  t.equal(r.state, 'upgraded');
  if (r.state === 'upgraded') t.same([...r.rest], [0x81, 0x02, 0x68, 0x69]);
  t.equal(checkHandshakeResponse(Buffer.from('HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Accept: x\r\n\r\n')).state, 'failed');
  t.equal(checkHandshakeResponse(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n')).state, 'failed');
  t.equal(checkHandshakeResponse(Buffer.alloc(20000, 0x41)).state, 'failed');
});
