// Issue 9: one call's playback pipe: codec read from the channel, FIFO made, broadcast once,
// writing started at the pipe's PLAYBACK_START, played again after someone's uuid_break, never
// after a hang-up, closed exactly once; every failure reported, nothing left behind.
import t, { type Test } from 'tap';
import { ManualClock } from '../../../src/clock.js';
import { PipeOutput, type PipeFile } from '../../../src/calls/pipe-output.js';
import { PipePlayback } from '../../../src/media/pipe-playback.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { EslResult } from '../../../src/esl/command-result.js';

class FakeFifo implements PipeFile {
  written: Buffer[] = [];
  closed = 0;
  drained = 0;
  constructor(readonly path: string) {}
  write(buf: Buffer): boolean { this.written.push(Buffer.from(buf)); return true; }
  drain(): number { this.drained++; return 0; }
  close(): void { this.closed++; }
}

function setup(t: Test, o: { codec?: string; getvarFails?: boolean; broadcastFails?: boolean; mkfifoFails?: boolean } = {}) {
  const clock = new ManualClock();
  const metrics = new MetricsRegistry();
  const commands: string[] = [];
  const fifos: FakeFifo[] = [];
  let resolveGetvar: (() => void) | null = null;
  let holdGetvar = false;
  const control = {
    uuidGetvar: async (uuid: string, name: string): Promise<EslResult<string | undefined>> => {
      commands.push(`getvar ${uuid} ${name}`);
      if (holdGetvar) await new Promise<void>((r) => { resolveGetvar = r; });
      return o.getvarFails ? { ok: false, code: 'ESL_COMMAND_FAILED' } : { ok: true, body: '', value: o.codec ?? 'PCMU' };
    },
    uuidBroadcast: async (uuid: string, file: string, leg?: string): Promise<EslResult<string>> => {
      commands.push(`broadcast ${uuid} ${file} ${leg}`);
      return o.broadcastFails ? { ok: false, code: 'ESL_COMMAND_FAILED' } : { ok: true, body: '+OK', value: 'Message sent' };
    },
  };
  const out = new PipeOutput({
    callId: 'call-1', fsUuid: 'uuid-1', dir: '/run/fsbridge/', inRateHz: 8000, control, clock, metrics, logger: silentLogger(),
    createFifo: async (path) => {
      if (o.mkfifoFails) throw new Error('EACCES: permission denied');
      const f = new FakeFifo(path);
      fifos.push(f);
      return f;
    },
  });
  const pb = new PipePlayback({ clock, metrics, logger: silentLogger(), sampleRateHz: 8000, actions: { writeFrame: (p) => out.writeFrame(p), markPlayed: () => {} } });
  t.teardown(() => { pb.close(); out.close(); });
  return { clock, metrics, commands, fifos, out, pb, hold: () => { holdGetvar = true; }, release: () => resolveGetvar?.() };
}

t.test('open: the channel\'s codec names the FIFO, which is broadcast once to the channel', async (t) => {
  const { out, pb, commands, fifos } = setup(t, { codec: 'PCMA' });
  t.same(await out.open(pb), { ok: true });
  t.same(commands, ['getvar uuid-1 write_codec', 'broadcast uuid-1 /run/fsbridge/call-1.PCMA aleg']);
  t.equal(out.path, '/run/fsbridge/call-1.PCMA');
  t.equal(fifos[0].written.length, 0, 'nothing written before FreeSWITCH plays it');
  t.notOk(pb.running);
});

t.test('writing starts at the pipe\'s PLAYBACK_START (lead first) in the codec\'s bytes; other files are not ours', async (t) => {
  const { out, pb, fifos, clock } = setup(t, { codec: 'PCMU' });
  await out.open(pb);
  t.notOk(out.onPlaybackEvent('PLAYBACK_START', '/tmp/other.wav'), 'another file');
  t.ok(out.onPlaybackEvent('PLAYBACK_START', '/run/fsbridge/call-1.PCMU'));
  t.ok(pb.running);
  t.equal(fifos[0].written.length, 3, 'lead (2) + tick 0');
  t.ok(fifos[0].written.every((b) => b.length === 160 && b.every((x) => x === 0xff)), 'μ-law silence, 160 bytes a frame');
  clock.advance(40);
  t.equal(fifos[0].written.length, 5);
});

t.test('without PLAYBACK_START (events lost) writing starts anyway after a second', async (t) => {
  const { out, pb, clock } = setup(t);
  await out.open(pb);
  clock.advance(999);
  t.notOk(pb.running);
  clock.advance(1);
  t.ok(pb.running);
});

t.test('PLAYBACK_STOP mid-call (someone\'s uuid_break): writing stops, the pipe is drained and broadcast again', async (t) => {
  const { out, pb, fifos, commands, clock } = setup(t);
  await out.open(pb);
  out.onPlaybackEvent('PLAYBACK_START', out.path!);
  t.ok(out.onPlaybackEvent('PLAYBACK_STOP', out.path!));
  t.notOk(pb.running, 'no writes to a pipe nobody reads');
  clock.advance(499);
  t.equal(commands.filter((c) => c.startsWith('broadcast')).length, 1);
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  t.equal(fifos[0].drained, 1, 'what was left in it dropped');
  t.equal(commands.filter((c) => c.startsWith('broadcast')).length, 2, 'played again');
  out.onPlaybackEvent('PLAYBACK_START', out.path!);
  t.ok(pb.running);
});

t.test('PLAYBACK_STOP of a hanging-up channel: nothing is played again', async (t) => {
  const { out, pb, commands, clock } = setup(t);
  await out.open(pb);
  out.onPlaybackEvent('PLAYBACK_START', out.path!);
  out.onPlaybackEvent('PLAYBACK_STOP', out.path!, true);
  clock.advance(5000);
  t.equal(commands.filter((c) => c.startsWith('broadcast')).length, 1);
});

t.test('played again at most three times, then MEDIA_PIPE_FAILED', async (t) => {
  const { out, pb, commands, clock, metrics } = setup(t);
  await out.open(pb);
  for (let i = 0; i < 4; i++) {
    out.onPlaybackEvent('PLAYBACK_START', out.path!);
    out.onPlaybackEvent('PLAYBACK_STOP', out.path!);
    clock.advance(500);
    await new Promise((r) => setImmediate(r));
  }
  t.equal(commands.filter((c) => c.startsWith('broadcast')).length, 4, 'the first + three again');
  t.equal(metrics.errorCount('MEDIA_PIPE_FAILED'), 1);
});

t.test('close: the FIFO closed once; later events and frames do nothing', async (t) => {
  const { out, pb, fifos, commands, clock } = setup(t);
  await out.open(pb);
  out.onPlaybackEvent('PLAYBACK_START', out.path!);
  pb.close();
  out.close();
  out.close();
  t.equal(fifos[0].closed, 1);
  t.notOk(out.onPlaybackEvent('PLAYBACK_STOP', '/run/fsbridge/call-1.PCMU'));
  t.ok(out.writeFrame(new Int16Array(160)), 'a frame after close is not a fault');
  clock.advance(2000);
  t.equal(commands.filter((c) => c.startsWith('broadcast')).length, 1);
});

t.test('closed while the codec is being read: no FIFO is made', async (t) => {
  const { out, pb, fifos, hold, release } = setup(t);
  hold();
  const p = out.open(pb);
  await new Promise((r) => setImmediate(r));
  out.close();
  release();
  t.same(await p, { ok: true });
  t.equal(fifos.length, 0);
});

t.test('failures: codec unreadable, FIFO not made, broadcast refused — each a reason', async (t) => {
  for (const [o, re] of [
    [{ getvarFails: true }, /^write_codec: ESL_COMMAND_FAILED/],
    [{ mkfifoFails: true }, /^mkfifo \/run\/fsbridge\/call-1.PCMU: EACCES/],
    [{ broadcastFails: true }, /^uuid_broadcast: ESL_COMMAND_FAILED/],
  ] as const) {
    const { out, pb } = setup(t, o);
    const r = await out.open(pb);
    t.equal(r.ok, false);
    if (!r.ok) t.match(r, { reason: re, retry: false });
  }
});

t.test('the Event Socket connection down: retry, and a second open goes on from the failed step', async (t) => {
  const { out, pb, commands, fifos } = setup(t, { broadcastFails: true });
  let down = true;
  const control = (out as unknown as { o: { control: { uuidBroadcast: (...a: string[]) => Promise<EslResult<string>> } } }).o.control;
  control.uuidBroadcast = async (uuid: string, file: string) => {
    commands.push(`broadcast ${uuid} ${file}`);
    return down ? { ok: false, code: 'ESL_DISCONNECTED' } : { ok: true, body: '+OK', value: '' };
  };
  const r = await out.open(pb);
  t.match(r, { ok: false, retry: true });
  down = false;
  t.same(await out.open(pb), { ok: true });
  t.equal(fifos.length, 1, 'one FIFO');
  t.equal(commands.filter((c) => c.startsWith('getvar')).length, 1, 'the codec read once');
});
