// Issue 9: the media loop on worker threads. Calls are spread over the workers; a worker that dies
// ends only its calls (records say MEDIA_WORKER_FAILED), is started again and takes new calls;
// /metrics sums the workers' counters with the main thread's. The daemon, its workers and the
// FreeSWITCH twin run in this process.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness } from '../../helpers/harness.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import type { CallRecord } from '../../../src/calls/call-record.js';
import type { Call } from '../../../src/calls/call.js';

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

for (const playback of ['file', 'pipe'] as const) {
  t.test(`${playback}: calls spread over 2 workers; one worker dies: only its calls end, it comes back`, async (t) => {
    const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
    t.teardown(() => bot.close());
    const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }`, { playback, workers: 2 });
    t.teardown(() => h.close());
    const pool = h.daemon.mediaWorkers!;
    t.ok(pool, 'media workers running');
    t.equal(h.daemon.ports.mediaWorkers?.length, 2, 'one media port per worker');
    t.not(h.daemon.ports.mediaWorkers?.[0], h.daemon.ports.mediaWorkers?.[1]);

    const calls: { call: Call; aLeg: string; ended: Promise<CallRecord> }[] = [];
    for (let i = 0; i < 4; i++) calls.push(await h.call('echo'));
    await until('4 connected calls', () => calls.every((c) => c.call.state === 'connected'));
    const where = calls.map((c) => pool.workerOf(c.call.callId));
    t.same(where.filter((w) => w === 0).length, 2, 'two calls on worker 0');
    t.same(where.filter((w) => w === 1).length, 2, 'two calls on worker 1');
    await until('caller audio at the bot from every call', () => bot.stats.audioMessagesIn >= 4 * 10);

    const before = await metricsText(h.daemon.ports.api);
    t.equal(sample(before, 'fsbridge_media_worker_legs{worker="0"}'), 2, 'worker 0 reports its 2 legs in /metrics');
    t.equal(sample(before, 'fsbridge_media_worker_legs{worker="1"}'), 2);
    t.ok(sample(before, 'fsbridge_bot_messages_out_total') >= 40, 'the workers\' bot counters reach /metrics');

    await pool.terminate(0);
    const dead = calls.filter((_, i) => where[i] === 0);
    const alive = calls.filter((_, i) => where[i] === 1);
    for (const c of dead) t.match(await c.ended, { endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'MEDIA_WORKER_FAILED' });
    t.ok(alive.every((c) => c.call.state === 'connected'), 'the other worker\'s calls go on');
    t.equal(h.daemon.metrics.errorCount('MEDIA_WORKER_FAILED'), 1, 'one worker death counted');
    if (playback === 'pipe') {
      // the dead worker's FIFOs were still open in the process: closed and removed by the pool
      const left = readdirSync(join(h.dir, 'pipes')).map((n) => n.slice(0, n.indexOf('.'))).sort();
      t.same(left, alive.map((c) => c.call.callId).sort(), 'only the live calls\' pipes are left');
    }

    await until('worker 0 running again', () => pool.ports.length === 2 && (pool as unknown as { slots: { ready: boolean }[] }).slots[0].ready);
    const again = await h.call('echo');
    await until('the new call connected', () => again.call.state === 'connected');
    t.equal(pool.workerOf(again.call.callId), 0, 'the restarted worker takes the next call (it carries the fewest)');
    const heard = bot.stats.audioMessagesIn;
    await until('its caller audio at the bot', () => bot.stats.audioMessagesIn >= heard + 10);

    for (const c of [...alive, again]) await h.twin.api(`uuid_kill ${c.aLeg}`);
    for (const c of [...alive, again]) t.match(await c.ended, { endedBy: 'caller' });
    await until('no leg left on any worker', () => pool.workerOf(again.call.callId) === undefined);
    const after = await metricsText(h.daemon.ports.api);
    t.equal(sample(after, 'fsbridge_media_worker_legs{worker="0"}') + sample(after, 'fsbridge_media_worker_legs{worker="1"}'), 0, 'no leg left');
    t.equal(h.daemon.calls.size, 0, 'no call left');
  });
}
