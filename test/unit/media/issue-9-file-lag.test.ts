// Issue 9: 'file' playback must not fall behind by more than one segment over a 60 s call. Every
// file costs FreeSWITCH a gap (modelled from the capture: 120 ms of broadcast lead), so a bot
// speaking in real time falls further behind with each file unless the oldest queued audio is
// dropped. Driven on the manual clock through bench/lib/file-playback-model.ts.
import t from 'tap';
import { modelLag } from '../../../bench/lib/file-playback-model.js';

t.test('a 60 s real-time bot: playback stays within maxLagMs (one largest segment) of it', async (t) => {
  const r = modelLag(60);
  t.comment(JSON.stringify(r));
  t.ok(r.worstLagMs <= 1600 + 120, `worst lag ${r.worstLagMs} ms`);
  t.ok(r.droppedMs > 0, `what kept it there: ${r.droppedMs} ms of the bot's audio dropped`);
});

t.test('without the bound the same call falls further behind with every file (the ratchet)', async (t) => {
  const r = modelLag(60, Infinity);
  t.comment(JSON.stringify(r));
  t.ok(r.lastLagMs > 3000, `last file ${r.lastLagMs} ms behind`);
  t.equal(r.droppedMs, 0);
});

t.test('a short utterance is not touched', async (t) => {
  const r = modelLag(5);
  t.equal(r.droppedMs, 0);
});
