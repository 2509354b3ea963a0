// Issue 8: a call ends at an unusual moment and its one owner (CallSupervisor) closes every leg.
// The daemon and the FreeSWITCH twin run in this process (test/helpers/harness.ts), bots on loopback.
import t from 'tap';
import { WebSocketServer, type WebSocket } from 'ws';
import { startHarness, until, type Harness } from '../../helpers/harness.js';
import { OutboundPeer, CONNECT_REPLY, SOFIA_UUID, defaultScript } from '../../unit/esl/outbound-peer.js';
import type { CallRecord } from '../../../src/calls/call-record.js';

interface BotServer { port: number; sockets: Set<WebSocket>; connections: number; close(): Promise<void> }

/** A websocket bot server; `hold(n)` says whether the n-th upgrade (from 1) is left hanging. */
async function botServer(hold: (n: number) => boolean = () => false, onSocket: (ws: WebSocket, n: number) => void = () => {}): Promise<BotServer> {
  let n = 0;
  const sockets = new Set<WebSocket>();
  const held: ((ok: boolean, code?: number) => void)[] = [];
  const wss = await new Promise<WebSocketServer>((resolve) => {
    const s: WebSocketServer = new WebSocketServer({
      port: 0, host: '127.0.0.1',
      verifyClient: (_info, cb) => { if (hold(++n)) held.push(cb); else cb(true); },
    }, () => resolve(s));
  });
  const srv: BotServer = {
    port: (wss.address() as { port: number }).port, sockets, connections: 0,
    close: () => new Promise<void>((r) => {
      for (const cb of held.splice(0)) cb(false, 503);
      for (const s of wss.clients) s.terminate();
      wss.close(() => r());
    }),
  };
  wss.on('connection', (ws) => {
    srv.connections++;
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    onSocket(ws, srv.connections);
  });
  return srv;
}

/** Collects unhandled rejections while a test runs (the daemon must produce none). */
function watchRejections(t: { teardown(fn: () => void): void }): unknown[] {
  const seen: unknown[] = [];
  const on = (r: unknown) => { seen.push(r); };
  process.on('unhandledRejection', on);
  t.teardown(() => { process.off('unhandledRejection', on); });
  return seen;
}

const settle = () => new Promise((r) => setTimeout(r, 100));

for (const how of ['caller', 'api', 'shutdown'] as const) {
  t.test(`bot dropped, reconnect pending, ${how} ends the call: no unhandled rejection, one record, no socket left`, async (t) => {
    const rejections = watchRejections(t);
    // connection 1 opens and is cut; connection 2 (the reconnect) never completes its upgrade
    const bot = await botServer((n) => n === 2, (ws, n) => { if (n === 1) setTimeout(() => ws.terminate(), 100); });
    t.teardown(() => bot.close());
    const h = await startHarness(`  flaky: { url: "ws://127.0.0.1:${bot.port}/", protocol: twilio, onDisconnect: reconnect }`);
    let closed = false;
    t.teardown(() => (closed ? undefined : h.close()));
    const c = await h.call('flaky');
    await until(() => h.daemon.metrics.errorCount('BOT_CLOSED_ABNORMALLY') === 1, 5000, 'the bot to drop');
    await settle(); // the reconnect is in flight
    if (how === 'caller') await h.twin.api(`uuid_kill ${c.aLeg}`);
    if (how === 'api') t.equal(await h.daemon.endCall(c.call.callId, 'api'), true);
    if (how === 'shutdown') { closed = true; await h.close(); }
    const rec = await c.ended;
    await settle();
    t.same(rejections, [], 'no unhandled rejection');
    t.match(rec, { endedBy: how === 'caller' ? 'caller' : how });
    t.equal(bot.sockets.size, 0, 'no bot socket left open');
    t.equal(h.daemon.calls.size, 0);
  });
}

t.test('the caller hangs up while uuid_audio_stream start is in flight: the bot is never left connected', async (t) => {
  const rejections = watchRejections(t);
  const bot = await botServer();
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "ws://127.0.0.1:${bot.port}/", protocol: twilio }`);
  t.teardown(() => h.close());
  // FreeSWITCH reports the hang-up while fsbridge's stream start is on its way
  const control = (h.daemon as unknown as { control: { audioStreamStart: (...a: unknown[]) => Promise<unknown> } }).control;
  const original = control.audioStreamStart.bind(control);
  let aLeg = '';
  control.audioStreamStart = async (...a: unknown[]) => {
    const reply = original(...a);
    await h.twin.api(`uuid_kill ${aLeg}`);
    return reply;
  };
  const got = new Promise<CallRecord>((resolve) => h.daemon.calls.once('call', (call) => call.once('ended', resolve)));
  const reply = await h.twin.api('originate {sim_caller_tone=440}loopback/bot-echo/default &park');
  aLeg = /^\+OK (\S+)/.exec(reply)![1];
  const rec = await got;
  await settle(); await settle();
  t.match(rec, { endedBy: 'caller', connectedAt: null });
  t.equal(bot.sockets.size, 0, 'no bot connection open after the call ended');
  t.same(rejections, []);
});

t.test('a second outbound-socket connection carrying a live call\'s uuid is refused; the call keeps its one record', async (t) => {
  const bot = await botServer();
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "ws://127.0.0.1:${bot.port}/", protocol: twilio }`);
  t.teardown(() => h.close());
  const c = await h.call('echo');
  await until(() => c.call.state === 'connected', 5000, 'connected');
  const fsUuid = c.call.fsUuid;
  const spoof = new OutboundPeer(h.daemon.ports.outboundSocket, (cmd, p) => {
    if (cmd.split('\n')[0] === 'connect') p.write(Buffer.from(CONNECT_REPLY().toString('latin1').split(SOFIA_UUID).join(fsUuid), 'latin1'));
    else defaultScript(cmd, p);
  });
  t.teardown(() => spoof.close());
  await until(() => spoof.closed, 5000, 'the spoofed connection to be closed');
  t.equal(h.daemon.metrics.errorCount('CALL_DUPLICATE_SESSION'), 1);
  t.notOk(spoof.commands.some((x) => x.startsWith('sendmsg')), 'nothing was sent to the channel through it');
  t.ok(c.call.live, 'the real call goes on');
  await h.twin.api(`uuid_kill ${c.aLeg}`);
  t.match(await c.ended, { endedBy: 'caller' });
  await settle();
  const lines = (await import('node:fs')).readFileSync(`${h.dir}/calls.jsonl`, 'utf8').trim().split('\n');
  t.equal(lines.filter((l) => l.includes(fsUuid)).length, 1, 'one record for that channel');
});

function mediaConn(h: Harness, callId: string): { close(code: number, reason: string): void } | null {
  const media = (h.daemon as unknown as { media: { expected: Map<string, { conn: { close(code: number, reason: string): void } | null }> } }).media;
  return media.expected.get(callId)?.conn ?? null;
}

t.test('mod_audio_stream\'s websocket closes mid-call: started again once; a second loss ends the call with CALL_MEDIA_STREAM_LOST', async (t) => {
  const bot = await botServer();
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "ws://127.0.0.1:${bot.port}/", protocol: twilio }`);
  t.teardown(() => h.close());
  const c = await h.call('echo');
  await until(() => c.call.state === 'connected' && mediaConn(h, c.call.callId) !== null, 5000, 'stream open');
  const first = mediaConn(h, c.call.callId)!;
  first.close(1011, 'test');
  await until(() => ![null, first].includes(mediaConn(h, c.call.callId)), 5000, 'the stream to be started again');
  t.ok(c.call.live, 'the call survived one loss');
  mediaConn(h, c.call.callId)!.close(1011, 'test');
  const rec = await c.ended;
  t.match(rec, { endedBy: 'fsbridge', errorCode: 'CALL_MEDIA_STREAM_LOST', cause: 'NORMAL_TEMPORARY_FAILURE' });
  t.equal(h.daemon.metrics.errorCount('CALL_MEDIA_STREAM_LOST'), 2);
  await settle();
  t.equal(bot.sockets.size, 0, 'bot released');
});

t.test('bot transfer: refused unless bots.<name>.transfer.allow matches; an allowed one is made', async (t) => {
  const bot = await botServer(() => false, (ws) => {
    ws.on('message', (d, binary) => {
      if (binary) return;
      const m = JSON.parse(String(d)) as { event: string };
      if (m.event === 'start') {
        ws.send(JSON.stringify({ event: 'transfer', target: '9999' }));
        setTimeout(() => ws.send(JSON.stringify({ event: 'transfer', target: 'park' })), 200);
      }
    });
  });
  t.teardown(() => bot.close());
  const h = await startHarness(`  nat: { url: "ws://127.0.0.1:${bot.port}/", protocol: native, transfer: { allow: ["park", "8[0-9]{3}"] } }`);
  t.teardown(() => h.close());
  const c = await h.call('nat');
  const rec = await c.ended;
  t.equal(h.daemon.metrics.errorCount('CALL_TRANSFER_DENIED'), 1, '9999 refused');
  t.match(rec, { endedBy: 'bot', result: 'transferred', transferTarget: 'park' });
  await h.twin.api(`uuid_kill ${c.aLeg}`);
});
