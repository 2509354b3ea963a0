// Issue 9: the main thread's side of a media leg carried by a worker. Every promise it gives
// settles whatever the worker does, including dying; the call's end is reported once.
import t from 'tap';
import { RemoteMediaLeg } from '../../../src/media-workers/remote-leg.js';
import type { ToWorker } from '../../../src/media-workers/messages.js';
import type { MediaLegSpec } from '../../../src/calls/media-leg.js';
import type { BotLegEnd } from '../../../src/calls/ports.js';

const spec = { info: { callId: 'c1' } } as unknown as MediaLegSpec;

function make() {
  const sent: ToWorker[] = [];
  const leg = new RemoteMediaLeg('c1', spec, { callId: 'c1' }, (m) => sent.push(m));
  const ends: BotLegEnd[] = [];
  leg.onEnded((w) => ends.push(w));
  return { leg, sent, ends };
}

t.test('start, events, stop: messages in order; nothing is sent after stop', async (t) => {
  const { leg, sent } = make();
  const started = leg.start();
  leg.started();
  await started;
  leg.dtmf('5');
  leg.onFsEvent({ name: 'PLAYBACK_START', headers: {} });
  const stopped = leg.stop({ detachStream: true });
  t.equal(leg.stop(), stopped, 'stop is idempotent');
  leg.dtmf('6');
  leg.stopped();
  await stopped;
  t.same(sent.map((m) => m.t), ['start', 'dtmf', 'fs-event', 'stop']);
  t.match(sent[3], { t: 'stop', opts: { detachStream: true } });
});

t.test('a refused start rejects with the worker\'s code', async (t) => {
  const { leg } = make();
  const p = leg.start();
  leg.startFailed('CALL_MEDIA_FAILED', 'uuid_audio_stream start failed');
  await t.rejects(p, { code: 'CALL_MEDIA_FAILED' });
});

t.test('the worker dies during start: the call ends once (MEDIA_WORKER_FAILED), start and stop settle', async (t) => {
  const { leg, sent, ends } = make();
  const p = leg.start();
  leg.workerLost();
  await p;
  leg.ended({ cause: 'NORMAL_CLEARING', endedBy: 'bot' });
  t.same(ends, [{ cause: 'NORMAL_TEMPORARY_FAILURE', endedBy: 'fsbridge', errorCode: 'MEDIA_WORKER_FAILED' }]);
  await leg.stop();
  t.same(sent.map((m) => m.t), ['start'], 'no stop sent to a dead worker');
});

t.test('the worker dies during stop: stop settles', async (t) => {
  const { leg } = make();
  const p = leg.start();
  leg.started();
  await p;
  const s = leg.stop();
  leg.workerLost();
  await s;
  t.pass('settled');
});

t.test('no worker at all: start rejects with MEDIA_WORKER_FAILED', async (t) => {
  const { leg } = make();
  leg.workerLost();
  await t.rejects(leg.start(), { code: 'MEDIA_WORKER_FAILED' });
});

t.test('stopped while starting: the worker reports the stop before the start, and start settles all the same', async (t) => {
  const { leg } = make();
  const p = leg.start();
  const s = leg.stop();
  leg.stopped();
  await s;
  await p;
  t.pass('both settled');
});
