// Done-criterion of issue 3: a known recording played as the caller goes through the twin →
// fsbridge → an echo bot of each protocol → back, in both playback modes, and the caller heard it
// (normalised cross-correlation above 0.5: heard, not silence or noise); the match and the delay
// are printed. How well it matches depends on timers and machine load, so it is a figure
// (test/real/ on the real FreeSWITCH, bench/), not a pass mark: on a busy 2-core machine a full
// run measured 0.89 for twilio/file where a quiet one measures 0.99.
import t from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { simulateCall } from '../../src/cli/simulate.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import { wavBytes } from '../../src/sim/freeswitch/audio-source.js';
import type { CliIo } from '../../src/cli/io.js';
import { testSignal, bestMatch } from '../helpers/audio.js';

const dir = mkdtempSync(join(tmpdir(), 'fsbridge-e2e-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const original = testSignal(2);
const callerWav = join(dir, 'caller.wav');
writeFileSync(callerWav, wavBytes(original, 8000));

function quietIo(): CliIo & { text: string[] } {
  const text: string[] = [];
  return { text, out: (s) => text.push(s), err: (s) => text.push(s), env: {}, cwd: dir, stopSignal: new Promise(() => {}) };
}

for (const protocol of ['twilio', 'exotel', 'native'] as const) {
  for (const playback of ['file', 'stream'] as const) {
    t.test(`${protocol} echo bot, ${playback} playback`, async (t) => {
      const bot = await startEchoBot({ protocol, port: 0, markEveryMs: Infinity });
      t.teardown(() => bot.close());
      const io = quietIo();
      const r = await simulateCall({
        botUrl: `${bot.url}${protocol}`, protocol, callerAudio: callerWav, seconds: 4.5, playback, json: true,
      }, io);
      t.equal(r.exitCode, 0, 'the call ended normally');
      t.match(r.record, { cause: 'NORMAL_CLEARING', endedBy: 'caller', bot: 'sim' });
      t.ok(bot.stats.starts === 1 && bot.stats.stops === 1, 'the bot saw one start and one stop');
      const m = bestMatch(original, r.heard);
      t.comment(`${protocol}/${playback}: ncc ${m.ncc.toFixed(3)}, round-trip delay ${(m.lag / 8).toFixed(1)} ms`);
      t.ok(m.ncc > 0.5, `the caller heard the original echoed (ncc ${m.ncc.toFixed(3)})`);
    });
  }
}
