// Issue 3: marks come back in order, clear silences playback, hang-up works from both sides with
// the right causes, the bot's onDisconnect policy, the Twilio-compatible REST hang-up, and a
// misbehaving bot ends (at most) its own call.
import t from 'tap';
import { WebSocketServer } from 'ws';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import { twilioCallSid } from '../../src/bots/sids.js';
import { startHarness, until } from '../helpers/harness.js';

const listeningWss = () => new Promise<WebSocketServer>((resolve) => {
  const wss: WebSocketServer = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => resolve(wss));
});

const speech = (ms: number) => {
  const n = (8000 * ms) / 1000;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(10000 * Math.sin((2 * Math.PI * 500 * i) / 8000));
  return out;
};

t.test('twilio: marks echoed in order; bot closes 1000 → NORMAL_CLEARING by the bot', async (t) => {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0, greeting: speech(600) });
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }`);
  t.teardown(() => h.close());
  const { ended } = await h.call('echo');
  await until(() => bot.stats.marksReceived.length >= 4, 15_000, 'marks');
  const names = bot.stats.marksReceived;
  t.equal(names[0], 'greeting', 'the greeting mark comes back first');
  const nums = names.filter((n) => n.startsWith('echo-')).map((n) => Number(n.slice(5)));
  t.same(nums, [...nums].sort((a, b) => a - b), `echo marks in order: ${names.slice(0, 6).join(',')}`);
  bot.hangupAll();
  const rec = await ended;
  t.match(rec, { endedBy: 'bot', cause: 'NORMAL_CLEARING', causeCode: 16 });
});

t.test('caller hangs up: the bot gets stop and close 1000', async (t) => {
  const bot = await startEchoBot({ protocol: 'exotel', port: 0 });
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "${bot.url}exotel", protocol: exotel }`);
  t.teardown(() => h.close());
  const { call, aLeg, ended } = await h.call('echo');
  await until(() => call.state === 'connected', 5000, 'connected');
  await until(() => bot.stats.audioMessagesIn > 0, 5000, 'caller audio at the bot');
  const killedAt = Date.now();
  await h.twin.api(`uuid_kill ${aLeg}`);
  await until(() => bot.stats.closeCodes.length > 0, 10_000, 'bot closed');
  t.comment(`stop + close reached the bot ${Date.now() - killedAt} ms after the hang-up`);
  t.equal(bot.stats.stops, 1, 'stop sent');
  t.same(bot.stats.closeCodes, [1000]);
  t.match(bot.stats.lastStop, { event: 'stop' });
  t.match(await ended, { endedBy: 'caller', cause: 'NORMAL_CLEARING' });
});

t.test('clear stops playback and answers pending marks', async (t) => {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0, greeting: speech(5000), echo: false });
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }`, { playback: 'stream' });
  t.teardown(() => h.close());
  const { call, aLeg, ended } = await h.call('echo');
  await until(() => call.state === 'connected', 5000, 'connected');
  // Positions in the ear recording are media time (one 20 ms frame per tick of the twin's media
  // clock), so nothing below depends on how fast this machine runs.
  const loudIn = (ear: Int16Array, from: number, to = ear.length) => {
    let n = 0;
    for (let i = from; i < to; i++) if (Math.abs(ear[i]) > 500) n++;
    return n;
  };
  await until(() => loudIn(h.twin.earRecording(call.fsUuid), 0) > 1000, 10_000, 'the greeting playing');
  const beforeClear = h.twin.earRecording(call.fsUuid).length;
  bot.clearAll();
  // fsbridge answers the pending greeting mark when it has stopped sending and told FreeSWITCH to
  // flush (uuid_break): from here on only audio already in flight may still play.
  await until(() => bot.stats.marksReceived.includes('greeting'), 10_000, 'the greeting mark answered at clear');
  const atClear = h.twin.earRecording(call.fsUuid).length;
  // 500 ms more of media time (not of wall time) for any left-over greeting to show.
  await until(() => h.twin.earRecording(call.fsUuid).length >= atClear + 8 * 500, 10_000, '500 ms of media after the clear');
  const ear = h.twin.earRecording(call.fsUuid);
  // After the clear took effect, plus at most one chunk (40 ms) and one frame already sent to
  // FreeSWITCH (StreamPlayback keeps it at most chunkMs + 20 ms ahead), the caller hears silence;
  // 100 ms allowed.
  t.equal(loudIn(ear, atClear + 8 * 100), 0, 'no greeting audio after the clear');
  let lastLoud = beforeClear;
  for (let i = beforeClear; i < ear.length; i++) if (Math.abs(ear[i]) > 500) lastLoud = i;
  t.comment(`greeting audio reached the caller for ${((lastLoud - beforeClear) / 8).toFixed(1)} ms after the bot sent clear (${((atClear - beforeClear) / 8).toFixed(0)} ms of media until the mark came back)`);
  t.ok(loudIn(ear, 0, beforeClear) > 1000, 'the greeting played before the clear');
  await h.twin.api(`uuid_kill ${aLeg}`);
  await ended;
});

t.test('Twilio REST hang-up: 200 then 404/20404', async (t) => {
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const h = await startHarness(`  echo: { url: "${bot.url}twilio", protocol: twilio }`);
  t.teardown(() => h.close());
  const { call, ended } = await h.call('echo');
  await until(() => call.state === 'connected', 5000, 'connected');
  const sid = twilioCallSid(call.callId);
  await until(() => bot.stats.lastStart !== null, 5000, 'start at the bot');
  t.match(bot.stats.lastStart, { start: { callSid: sid, accountSid: 'ACtest' } }, 'the bot knows the CallSid the REST API accepts');
  const url = `http://127.0.0.1:${h.daemon.ports.api}/2010-04-01/Accounts/ACtest/Calls/${sid}.json`;
  const headers = { authorization: 'Basic ' + Buffer.from('ACtest:secret').toString('base64'), 'content-type': 'application/x-www-form-urlencoded' };
  const r = await fetch(url, { method: 'POST', headers, body: 'Status=completed' });
  t.equal(r.status, 200);
  t.match(await ended, { endedBy: 'api', cause: 'NORMAL_CLEARING' });
  const again = await fetch(url, { method: 'POST', headers, body: 'Status=completed' });
  t.equal(again.status, 404);
  t.match(await again.json(), { code: 20404 });
});

t.test('onDisconnect policies: abnormal close → hangup; refused bot → fallback prompt then hang-up', async (t) => {
  // A bot that accepts, then drops TCP without a close frame.
  const wss = await listeningWss();
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  wss.on('connection', (ws) => setTimeout(() => ws.terminate(), 300));
  const port = (wss.address() as { port: number }).port;
  const h = await startHarness([
    `  rude: { url: "ws://127.0.0.1:${port}/", protocol: twilio, onDisconnect: hangup }`,
    `  gone: { url: "ws://127.0.0.1:1/", protocol: twilio, onDisconnect: fallback, fallbackAudio: "tone_stream://%(300,0,440)", connectTimeoutMs: 1000 }`,
  ].join('\n'));
  t.teardown(() => h.close());
  const a = await h.call('rude');
  t.match(await a.ended, { endedBy: 'fsbridge', cause: 'NORMAL_TEMPORARY_FAILURE', errorCode: 'BOT_CLOSED_ABNORMALLY' });
  const b = await h.call('gone');
  const rec = await b.ended;
  t.match(rec, { endedBy: 'fsbridge', errorCode: 'BOT_FALLBACK_PLAYED' });
  const ear = h.twin.earRecording(rec.fsUuid);
  let loud = 0;
  for (const s of ear) if (Math.abs(s) > 500) loud++;
  t.ok(loud > 1000, 'the caller heard the fallback prompt');
  t.ok(h.daemon.metrics.errorCount('BOT_CONNECT_FAILED') >= 1, 'connect failure counted');
});

t.test('a bot flooding 10,000 messages a second ends nothing but its own garbage; another call is untouched', async (t) => {
  const good = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => good.close());
  const wss = await listeningWss();
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  wss.on('connection', (ws) => {
    let sent = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 100 && ws.readyState === ws.OPEN; i++, sent++) {
        ws.send(sent % 3 === 0 ? '{"event":"media","media":{"payload":"%%%not base64"}}' : sent % 3 === 1 ? '{not json' : Buffer.from([1, 2, 3]));
      }
      if (sent >= 20000) clearInterval(timer);
    }, 10);
    ws.on('close', () => clearInterval(timer));
  });
  const port = (wss.address() as { port: number }).port;
  const h = await startHarness([
    `  good: { url: "${good.url}twilio", protocol: twilio }`,
    `  flood: { url: "ws://127.0.0.1:${port}/", protocol: twilio }`,
  ].join('\n'));
  t.teardown(() => h.close());
  const g = await h.call('good');
  const f = await h.call('flood');
  await until(() => h.daemon.metrics.errorCount('BOT_BAD_JSON') >= 1000, 10000, 'bad messages counted');
  t.ok(h.daemon.metrics.errorCount('BOT_BAD_BASE64') >= 1000, 'bad base64 counted');
  t.ok(h.daemon.metrics.errorCount('BOT_BINARY_IGNORED') >= 1000, 'binary frames counted');
  t.equal(f.call.state, 'connected', 'the flooding bot\'s call survives (bad messages are dropped)');
  // Counted, not timed: 15 more media messages (300 ms of audio) reach the good bot while the
  // flood goes on; the bound is a safety net only.
  const before = good.stats.audioMessagesIn;
  await until(() => good.stats.audioMessagesIn - before >= 15, 10_000, 'the other call\'s audio');
  t.ok(good.stats.audioMessagesIn - before >= 15, 'the other call keeps flowing');
  await h.twin.api(`uuid_kill ${g.aLeg}`);
  await h.twin.api(`uuid_kill ${f.aLeg}`);
  t.match(await g.ended, { endedBy: 'caller' });
  t.match(await f.ended, { endedBy: 'caller' });
});

t.test('onDisconnect reconnect: one new connection, the call goes on', async (t) => {
  let connections = 0;
  const starts: string[] = [];
  const wss = await listeningWss();
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  wss.on('connection', (ws) => {
    connections++;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { event: string; start?: { streamSid: string } };
      if (m.event === 'start' && m.start) starts.push(m.start.streamSid);
    });
    if (connections === 1) setTimeout(() => ws.terminate(), 200);
  });
  const port = (wss.address() as { port: number }).port;
  const h = await startHarness(`  flaky: { url: "ws://127.0.0.1:${port}/", protocol: twilio, onDisconnect: reconnect }`);
  t.teardown(() => h.close());
  const c = await h.call('flaky');
  await until(() => starts.length === 2, 5000, 'second start');
  t.equal(connections, 2, 'exactly one reconnect');
  t.not(starts[0], starts[1], 'a new streamSid for the new stream');
  t.ok(c.call.live, 'the call survived the bot dropping');
  await h.twin.api(`uuid_kill ${c.aLeg}`);
  t.match(await c.ended, { endedBy: 'caller' });
});

t.test('DTMF: the caller\'s keys reach the bot in its protocol\'s form; native DTMF goes to the caller', async (t) => {
  const received: Record<string, unknown>[] = [];
  const wss = await listeningWss();
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  wss.on('connection', (ws) => {
    ws.on('message', (d, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(String(d)) as Record<string, unknown>;
      if (m.event === 'dtmf') {
        received.push(m);
        if (received.length === 1) ws.send('{"event":"dtmf","digits":"42"}');
      }
    });
  });
  const port = (wss.address() as { port: number }).port;
  const twilioBot = await startEchoBot({ protocol: 'twilio', port: 0, hangupOnDtmf: null });
  t.teardown(() => twilioBot.close());
  const h = await startHarness([
    `  nat: { url: "ws://127.0.0.1:${port}/", protocol: native }`,
    `  tw: { url: "${twilioBot.url}twilio", protocol: twilio }`,
  ].join('\n'));
  t.teardown(() => h.close());
  // The caller presses keys on the loopback A leg; FreeSWITCH delivers them to the B leg, the
  // channel fsbridge controls (as on the real FreeSWITCH: test/real/differential-esl.real.test.ts).
  const tw = await h.call('tw');
  await until(() => tw.call.state === 'connected', 5000, 'connected');
  await h.twin.api(`uuid_send_dtmf ${tw.aLeg} 7`);
  await until(() => twilioBot.stats.dtmf.length > 0, 10_000, 'twilio dtmf');
  t.same(twilioBot.stats.dtmf, ['7'], 'Twilio dtmf event with the digit');
  const nat = await h.call('nat');
  const atCaller: string[] = [];
  const off = h.twin.onEvent((e) => {
    if (e.name === 'DTMF' && e.get('Unique-ID') === nat.aLeg) atCaller.push(e.get('DTMF-Digit') ?? '');
  });
  t.teardown(off);
  await until(() => nat.call.state === 'connected', 5000, 'connected');
  await h.twin.api(`uuid_send_dtmf ${nat.aLeg} 5`);
  await until(() => received.length > 0, 10_000, 'native dtmf at the bot');
  t.match(received[0], { event: 'dtmf', digit: '5' });
  // The bot answered with digits 42: fsbridge runs uuid_send_dtmf on its channel, and the digits
  // reach the caller's side (the A leg reads them), not fsbridge's own channel.
  await until(() => atCaller.length >= 2, 10_000, 'the bot\'s digits reached the caller');
  t.same(atCaller, ['4', '2']);
  t.equal(received.length, 1, 'the bot\'s own digits did not come back to it');
  await h.twin.api(`uuid_kill ${tw.aLeg}`);
  await h.twin.api(`uuid_kill ${nat.aLeg}`);
  await tw.ended;
  await nat.ended;
});

t.test('a native bot transfers the caller to another extension: bot released, call handed on, record says transferred', async (t) => {
  const first = await listeningWss();
  t.teardown(() => new Promise<void>((r) => { for (const c of first.clients) c.terminate(); first.close(() => r()); }));
  const closes: number[] = [];
  first.on('connection', (ws) => {
    ws.on('message', (d, bin) => { if (!bin && String(d).includes('"event":"start"')) ws.send(JSON.stringify({ event: 'transfer', target: 'echo-native' })); });
    ws.on('close', (code) => closes.push(code));
  });
  const second = await startEchoBot({ protocol: 'native', port: 0 });
  t.teardown(() => second.close());
  const firstPort = (first.address() as { port: number }).port;
  const h = await startHarness(`  mover: { url: "ws://127.0.0.1:${firstPort}/", protocol: native, transfer: { allow: ["echo-native"] } }
  echo-native: { url: "${second.url}native", protocol: native }`);
  t.teardown(() => h.close());
  const next = new Promise<import('../../src/calls/call.js').Call>((resolve) => h.daemon.calls.on('call', (c) => { if (c.init.bot === 'echo-native') resolve(c); }));
  const { call, ended } = await h.call('mover');
  const rec = await ended;
  t.match(rec, { callId: call.callId, endedBy: 'bot', cause: 'NORMAL_CLEARING', result: 'transferred', transferTarget: 'echo-native' });
  await until(() => closes.length > 0, 10_000, 'first bot closed');
  t.same(closes, [1000], 'the transferring bot got a normal close');
  const handedOn = await next;
  t.equal(handedOn.fsUuid, call.fsUuid, 'the same channel reached fsbridge again through the new extension');
  await until(() => second.stats.starts === 1, 5000, 'the second bot started');
  t.pass('the caller now talks to the bot of the transfer target');
});
