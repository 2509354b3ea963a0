import t from 'tap';
import alawmulaw from 'alawmulaw';
import { alawToLinear, decodeG711, encodeG711, linearToAlaw, linearToUlaw, ulawToLinear } from '../../../src/sim/freeswitch/sofia/g711.js';

t.test('μ-law and A-law match an independent implementation at every sample', async (t) => {
  let bad = 0;
  for (let s = -32768; s < 32768; s++) {
    if (linearToUlaw(s) !== (alawmulaw.mulaw.encodeSample(s) & 0xff)) bad++;
    // Negative A-law inputs: the twin rounds as spandsp does (-x - 1), which differs at segment edges.
    if (s >= 0 && linearToAlaw(s) !== (alawmulaw.alaw.encodeSample(s) & 0xff)) bad++;
    if (s < 0 && Math.abs(alawToLinear(linearToAlaw(s)) - s) > 1024) bad++;
  }
  for (let i = 0; i < 256; i++) {
    if (ulawToLinear(i) !== alawmulaw.mulaw.decodeSample(i)) bad++;
    if (alawToLinear(i) !== alawmulaw.alaw.decodeSample(i)) bad++;
  }
  t.equal(bad, 0);
  t.equal(linearToUlaw(0), 0xff, 'μ-law silence is 0xFF');
  t.equal(linearToAlaw(0), 0xd5, 'A-law silence is 0xD5');
});

t.test('payload round trip keeps a tone', async (t) => {
  const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  for (const c of ['PCMU', 'PCMA'] as const) {
    const back = decodeG711(c, encodeG711(c, pcm));
    let err = 0;
    for (let i = 0; i < pcm.length; i++) err = Math.max(err, Math.abs(back[i] - pcm[i]));
    t.ok(err < 300, `${c} max error ${err}`);
  }
});
