import t, { type Test } from 'tap';
import type { BotCommand, BotProtocol } from '../../../src/bots/adapter.js';
import { BotConnection } from '../../../src/bots/client.js';
import { createBotAdapter } from '../../../src/bots/create-adapter.js';
import { startEchoBot, type EchoBot, type EchoBotOptions } from '../../../src/bots/sample/echo-bot.js';
import { ManualClock } from '../../../src/clock.js';
import { ulawDecode, ulawEncode } from '../../../src/media/g711.js';
import { callInfo, record, type Recorded } from './helpers.js';

function ramp(n: number, start = 0): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = ((start + i) * 977) % 65536 - 32768;
  return a;
}
function viaUlaw(pcm: Int16Array): Int16Array {
  const u = new Uint8Array(pcm.length);
  ulawEncode(pcm, u);
  const out = new Int16Array(pcm.length);
  ulawDecode(u, out);
  return out;
}

interface Harness {
  bot: EchoBot;
  conn: BotConnection;
  rec: Recorded;
  adapter: ReturnType<typeof createBotAdapter>;
  cmds: BotCommand[];
  /** Resolves once `pred(cmds)` holds (checked on every message). */
  until(pred: (c: BotCommand[]) => boolean): Promise<void>;
  /** Resolves once the bot's stats satisfy `pred` (polled on each bot-side event via setImmediate). */
  botUntil(pred: () => boolean): Promise<void>;
}

async function harness(t: Test, protocol: BotProtocol, botOpts: Partial<EchoBotOptions> = {},
  adapterOpts: Parameters<typeof createBotAdapter>[1] = {}): Promise<Harness> {
  const bot = await startEchoBot({ protocol, ...botOpts });
  t.teardown(() => bot.close());
  const conn = new BotConnection({ url: bot.url, headers: { authorization: 'Bearer t' } });
  t.teardown(() => conn.close());
  const rec = record(conn);
  const adapter = createBotAdapter(protocol, adapterOpts);
  const cmds: BotCommand[] = [];
  const waiters: { pred: (c: BotCommand[]) => boolean; resolve: () => void }[] = [];
  conn.on('message', (d, b) => {
    cmds.push(...adapter.receive(d, b));
    for (const w of [...waiters]) if (w.pred(cmds)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  conn.connect();
  await rec.opened;
  for (const m of adapter.open(callInfo())) conn.send(m);
  return {
    bot, conn, rec, adapter, cmds,
    until: (pred) => pred(cmds) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pred, resolve })),
    botUntil: async (pred) => {
      // Bounded: the bot handles each message within a few event-loop turns on loopback.
      for (let i = 0; i < 10_000 && !pred(); i++) await new Promise((r) => setImmediate(r));
      if (!pred()) throw new Error('bot condition not reached');
    },
  };
}

const audioOf = (cmds: BotCommand[]): number[] =>
  cmds.flatMap((c) => (c.kind === 'audio' ? [...c.pcm] : []));

for (const protocol of ['twilio', 'exotel', 'native'] as const) {
  t.test(`${protocol}: start recorded, caller audio echoed back with a mark per chunk`, async (t) => {
    const h = await harness(t, protocol);
    await h.botUntil(() => h.bot.stats.starts === 1);
    t.equal(h.bot.stats.lastHeaders?.authorization, 'Bearer t');
    const sent: number[] = [];
    let out = 0;
    for (let i = 0; i < 20; i++) {
      const f = ramp(160, i * 160);
      sent.push(...(protocol === 'twilio' ? viaUlaw(f) : f));
      const m = h.adapter.audio(f);
      if (m !== null) { h.conn.send(m); out++; }
    }
    t.equal(out, protocol === 'exotel' ? 2 : 20);
    await h.until((c) => audioOf(c).length === sent.length && c.filter((x) => x.kind === 'mark').length === out);
    t.same(audioOf(h.cmds), sent, 'echoed audio equals what was sent (after μ-law for twilio)');
    const marks = h.cmds.filter((c) => c.kind === 'mark').map((c) => (c.kind === 'mark' ? c.name : ''));
    t.same(marks, Array.from({ length: out }, (_, i) => `echo-${i + 1}`));
    t.ok(h.cmds.every((c) => c.kind === 'audio' || c.kind === 'mark'), 'no errors parsing the bot');
    t.ok(h.cmds.every((c) => c.kind !== 'audio' || c.sampleRateHz === 8000));
    t.equal(h.bot.stats.audioMessagesIn, out);

    h.conn.send(h.adapter.markPlayed('echo-1') as string);
    await h.botUntil(() => h.bot.stats.marksReceived.length === 1);
    t.same(h.bot.stats.marksReceived, ['echo-1']);
    h.conn.send(h.adapter.stop('callended') as string);
    await h.botUntil(() => h.bot.stats.stops === 1);
    t.equal(h.bot.stats.badMessages, 0);
  });

  t.test(`${protocol}: greeting is played after start, then mark "greeting"`, async (t) => {
    const greeting = ramp(1600);
    const h = await harness(t, protocol, { greeting });
    await h.until((c) => c.some((x) => x.kind === 'mark' && x.name === 'greeting'));
    const expected = protocol === 'twilio' ? [...viaUlaw(greeting)] : [...greeting];
    t.same(audioOf(h.cmds), expected);
  });

  t.test(`${protocol}: DTMF is recorded; '*' makes the bot send clear; '#' hangs up with 1000`, async (t) => {
    const h = await harness(t, protocol);
    h.conn.send(h.adapter.dtmf('1') as string);
    h.conn.send(h.adapter.dtmf('*') as string);
    await h.until((c) => c.some((x) => x.kind === 'clear'));
    h.conn.send(h.adapter.dtmf('#') as string);
    const closed = await h.rec.closed;
    t.equal(closed.code, 1000);
    t.same(closed.info, { normal: true, initiator: 'remote', opened: true });
    t.same(h.bot.stats.dtmf, ['1', '*', '#']);
    t.equal(h.bot.stats.clearsSent, 1);
    t.equal(h.bot.stats.hangups, 1);
  });
}

t.test('exotel 16 kHz and native μ-law / 16 kHz sessions echo in their own format', async (t) => {
  for (const [protocol, opts] of [
    ['exotel', { sampleRateHz: 16000 }], ['native', { encoding: 'mulaw' }], ['native', { sampleRateHz: 16000 }],
  ] as const) {
    const h = await harness(t, protocol, {}, opts);
    await h.botUntil(() => h.bot.stats.starts === 1);
    const rate = 'sampleRateHz' in opts ? opts.sampleRateHz : 8000;
    const f = ramp(rate / 5);
    const m = h.adapter.audio(f);
    t.not(m, null);
    h.conn.send(m as string | Buffer);
    await h.until((c) => audioOf(c).length === f.length);
    t.same(audioOf(h.cmds), 'encoding' in opts ? [...viaUlaw(f)] : [...f], JSON.stringify(opts));
    t.ok(h.cmds.every((c) => c.kind !== 'audio' || c.sampleRateHz === rate));
  }
});

t.test('markEveryMs: one mark per 100 ms of echoed audio', async (t) => {
  const h = await harness(t, 'twilio', { markEveryMs: 100 });
  for (let i = 0; i < 10; i++) h.conn.send(h.adapter.audio(ramp(160)) as string);
  await h.until((c) => audioOf(c).length === 1600);
  await h.until((c) => c.filter((x) => x.kind === 'mark').length === 2);
  t.equal(h.bot.stats.marksSent, 2);
});

t.test('hangupAfterMs: the bot closes with 1000 once the clock passes it', async (t) => {
  const clock = new ManualClock();
  const h = await harness(t, 'native', { hangupAfterMs: 5000, clock });
  await h.botUntil(() => h.bot.stats.starts === 1);
  clock.advance(4999);
  t.equal(h.conn.state, 'open');
  clock.advance(1);
  const closed = await h.rec.closed;
  t.equal(closed.code, 1000);
  t.equal(closed.info.normal, true);
});

t.test('requireHeaders: upgrade refused without the header', async (t) => {
  const bot = await startEchoBot({ protocol: 'twilio', requireHeaders: { authorization: 'Bearer good' } });
  t.teardown(() => bot.close());
  const bad = new BotConnection({ url: bot.url, headers: { authorization: 'Bearer bad' } });
  t.teardown(() => bad.close());
  const rb = record(bad);
  bad.connect();
  await rb.closed;
  t.same(rb.errors, ['BOT_HANDSHAKE_REJECTED']);
  const good = new BotConnection({ url: bot.url, headers: { Authorization: 'Bearer good' } });
  t.teardown(() => good.close());
  const rg = record(good);
  good.connect();
  await rg.opened;
  t.equal(bot.stats.connections, 1);
});

t.test('close() is idempotent and ends open connections', async (t) => {
  const bot = await startEchoBot({ protocol: 'native' });
  const c = new BotConnection({ url: bot.url });
  t.teardown(() => c.close());
  const r = record(c);
  c.connect();
  await r.opened;
  await Promise.all([bot.close(), bot.close()]);
  const closed = await r.closed;
  t.equal(closed.info.normal, false);
});
