// Issue 9: a call whose playback pipe cannot be made ends with MEDIA_PIPE_FAILED (its caller would
// not hear the bot); no FIFO and no call is left. The daemon and the twin run in this process.
import t from 'tap';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness } from '../../helpers/harness.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';

t.test('the pipe directory gone after start: the call ends by fsbridge with MEDIA_PIPE_FAILED', async (t) => {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }`, { playback: 'pipe' });
  t.teardown(() => h.close());
  rmSync(join(h.dir, 'pipes'), { recursive: true, force: true });
  const { ended } = await h.call('echo');
  const rec = await ended;
  t.match(rec, { endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'MEDIA_PIPE_FAILED' });
  t.equal(h.daemon.metrics.errorCount('MEDIA_PIPE_FAILED'), 1, 'counted once');
  t.equal(h.daemon.calls.size, 0, 'no call left');
});

t.test('with the directory in place the same call is served through the pipe', async (t) => {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }`, { playback: 'pipe' });
  t.teardown(() => h.close());
  const { call, aLeg, ended } = await h.call('echo');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(call.state, 'connected', 'still connected after the grace a pipe failure would get');
  await h.twin.api(`uuid_kill ${aLeg}`);
  t.match(await ended, { endedBy: 'caller' });
  t.equal(h.daemon.metrics.errorCount('MEDIA_PIPE_FAILED'), 0);
});
