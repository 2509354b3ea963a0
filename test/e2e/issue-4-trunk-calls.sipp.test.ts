// Done-criteria of issue 4 (calls): a sipp UAC calls a DID through drachtio-server (twin); fsbridge
// bridges it into FreeSWITCH's (twin) SIP profile, whose dialplan sockets back to fsbridge, and the
// bot hears the caller's RTP while the caller's leg gets the bot's audio; an API call to a sipp UAS
// (the trunk) is answered, talks to a bot and is hung up from the bot side. Each leaves one call
// record with the right cause.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runSipp, freeUdpPort, sippSkipReason, waitUdpBound } from './sipp-runner.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import type { CallRecord } from '../../src/calls/call-record.js';
import type { Call } from '../../src/calls/call.js';
import { until } from '../helpers/harness.js';
import { startTwinDaemon } from '../helpers/twin-daemon.js';

const DID = '15551234';
const PCAP = '/usr/share/sip-tester/g711a.pcap';

async function setup(t: Test, trunkPort: number, botOpts: Parameters<typeof startEchoBot>[0], extraYaml = '', routeYaml = '') {
  const bot = await startEchoBot(botOpts);
  t.teardown(() => bot.close());
  const h = await startTwinDaemon(t, (dir) => `
trunks:
  - name: operator
    registrar: "sip:127.0.0.1:${trunkPort}"
    register: false
    inbound: { allow: [127.0.0.1/32] }
bots:
  echo: { url: "${bot.url}twilio", protocol: twilio }
routes:
  - { did: "+${DID}", bot: echo${routeYaml} }
calls: { recordFile: ${JSON.stringify(join(dir, 'calls.jsonl'))} }
${extraYaml}`);
  const file = join(h.dir, 'calls.jsonl');
  const records = () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as CallRecord) : []);
  return { bot, drachtio: h.drachtio, fs: h.fs, daemon: h.daemon, ports: h.ports, records };
}

const sippSkip = sippSkipReason();
if (sippSkip) {
  t.test('sipp tests', { skip: sippSkip }, async () => {});
} else {
  t.test('a sipp caller dials a DID: bridged into FreeSWITCH, talks to the bot, hangs up', { skip: sippSkipReason(PCAP) }, async (t) => {
    const greeting = new Int16Array(8000).map((_, i) => Math.round(9000 * Math.sin((2 * Math.PI * 600 * i) / 8000)));
    const h = await setup(t, 9, { protocol: 'twilio', port: 0, greeting });
    const calls: Call[] = [];
    h.daemon.calls.on('call', (c) => calls.push(c));
    const run = runSipp('uac-invite-audio.xml', { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${h.drachtio.sipPort}`, extra: ['-s', DID] });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    const res = await run.done;
    t.equal(res.code, 0, res.code === 0 ? 'sipp: INVITE answered, audio sent, BYE answered' : res.output.slice(-3000));
    t.equal(calls.length, 1, 'one call reached fsbridge through FreeSWITCH');
    t.match(calls[0]?.init, { direction: 'inbound', bot: 'echo', to: DID });
    await until(() => h.records().length === 1, 5000, 'the call record');
    t.match(h.records()[0], { direction: 'inbound', bot: 'echo', endedBy: 'caller', cause: 'NORMAL_CLEARING' });
    t.ok(h.bot.stats.audioMessagesIn > 20, `the bot heard the caller's RTP (${h.bot.stats.audioMessagesIn} media messages)`);
    const ear = h.fs.earRecording(calls[0].fsUuid);
    let loud = 0;
    for (const s of ear) if (Math.abs(s) > 300) loud++;
    t.ok(loud > 2000, `the bot's audio was played on the caller's leg, which FreeSWITCH sends as RTP (${loud} loud samples)`);
  });

  t.test('issue 10: a route that records, with its own status callbacks; a viewer\'s metrics', { skip: sippSkipReason(PCAP) }, async (t) => {
    const hooks: Array<Record<string, unknown>> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        try { hooks.push(JSON.parse(body) as Record<string, unknown>); } catch { hooks.push({ notJson: body }); }
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => receiver.close(() => r())));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const recDir = mkdtempSync(join(tmpdir(), 'fsbridge-sip-rec-'));
    t.teardown(() => rmSync(recDir, { recursive: true, force: true }));
    const h = await setup(t, 9, { protocol: 'twilio', port: 0 },
      `recordings: { dir: ${JSON.stringify(recDir)}, masterKey: "${'ab'.repeat(32)}" }`,
      `, record: true, statusCallback: { url: "${hookUrl}", format: json, secret: s3cret, events: [initiated, completed] }`);
    const run = runSipp('uac-invite-audio.xml', { port: await freeUdpPort(), mediaPort: await freeUdpPort(), remote: `127.0.0.1:${h.drachtio.sipPort}`, extra: ['-s', DID] });
    t.teardown(() => { if (run.child.exitCode === null) run.child.kill(); });
    t.equal((await run.done).code, 0, 'sipp: the call went through');
    await until(() => h.records().length === 1, 5000, 'the call record');
    const callId = h.records()[0].callId;
    await until(() => hooks.length === 2, 15_000, 'the route\'s two callbacks');
    t.same(hooks.map((x) => [x.callId, x.event]), [[callId, 'initiated'], [callId, 'completed']], 'the route\'s callbacks, in order');
    const api = (path: string, key = 'tok') => fetch(`http://127.0.0.1:${h.ports.api}${path}`, { headers: { authorization: `Bearer ${key}` } });
    let rec = await api(`/v1/calls/${callId}/recording`);
    for (let i = 0; i < 50 && rec.status === 409; i++) { await new Promise((r) => setTimeout(r, 100)); rec = await api(`/v1/calls/${callId}/recording`); }
    t.equal(rec.status, 200, 'the bot does not record, its route does');
    // sipp hangs up 1 s after its audio starts: the recording holds most of that second
    t.ok((await rec.arrayBuffer()).byteLength > 44 + 8000 * 2, 'more than half a second of stereo audio');

    const created = await fetch(`http://127.0.0.1:${h.ports.api}/v1/keys`, {
      method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'default', role: 'viewer' }),
    });
    const viewer = ((await created.json()) as { key: string }).key;
    const mine = await (await api('/v1/metrics', viewer)).text();
    t.match(mine, /^fsbridge_tenant_calls_total\{direction="inbound",tenant="default"\} 1$/m, 'a viewer reads its tenant\'s metrics');
    t.match(mine, /^fsbridge_tenant_calls_ended_total\{cause="NORMAL_CLEARING",tenant="default"\} 1$/m);
    t.notMatch(mine, /fsbridge_active_calls|fsbridge_esl_connected/, 'and nothing of the daemon\'s');
    t.match(await (await api('/v1/metrics')).text(), /fsbridge_esl_connected/, 'an admin reads them all');
  });

  t.test('POST /v1/calls to a sipp trunk: answered, talks to the bot, the bot hangs up', { skip: sippSkipReason(PCAP) }, async (t) => {
    const trunkPort = await freeUdpPort();
    const uas = runSipp('uas-trunk-answer-audio.xml', { port: trunkPort, mediaPort: await freeUdpPort(), timeoutSec: 20 });
    t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
    t.ok(await waitUdpBound(trunkPort), 'sipp trunk listening');
    const h = await setup(t, trunkPort, { protocol: 'twilio', port: 0, hangupAfterMs: 1500 });
    const r = await fetch(`http://127.0.0.1:${h.ports.api}/v1/calls`, {
      method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({ to: '4915112345', from: DID, trunk: 'operator', bot: 'echo', params: { campaign: 'c1' }, timeoutSec: 10 }),
    });
    const body = await r.json() as { callId: string; result: string };
    t.equal(r.status, 200);
    t.match(body, { result: 'answered' });
    const res = await uas.done;
    t.equal(res.code, 0, res.code === 0 ? 'the trunk got INVITE, ACK and the BYE' : res.output.slice(-3000));
    await until(() => h.records().length === 1, 5000, 'the call record');
    t.match(h.records()[0], { callId: body.callId, direction: 'outbound', bot: 'echo', endedBy: 'bot', cause: 'NORMAL_CLEARING', result: 'answered' });
    t.match(h.bot.stats.lastStart, { start: { customParameters: { campaign: 'c1' } } });
    t.ok(h.bot.stats.audioMessagesIn > 20, `the bot heard the callee's RTP (${h.bot.stats.audioMessagesIn} media messages)`);
  });

  t.test('POST /v1/calls to a busy trunk: result busy with the SIP status, one record', async (t) => {
    const trunkPort = await freeUdpPort();
    const uas = runSipp('uas-trunk-busy.xml', { port: trunkPort, mediaPort: await freeUdpPort(), timeoutSec: 20 });
    t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
    t.ok(await waitUdpBound(trunkPort), 'sipp trunk listening');
    const h = await setup(t, trunkPort, { protocol: 'twilio', port: 0 });
    const r = await fetch(`http://127.0.0.1:${h.ports.api}/v1/calls`, {
      method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({ to: '4915112345', trunk: 'operator', bot: 'echo' }),
    });
    const body = await r.json() as { callId: string };
    t.match(body, { result: 'busy', sipStatus: 486, cause: 'USER_BUSY' });
    await until(() => h.records().length === 1, 5000, 'the call record');
    t.match(h.records()[0], { callId: body.callId, direction: 'outbound', endedBy: 'callee', cause: 'USER_BUSY', causeCode: 17, sipStatus: 486, result: 'busy' });
    t.equal(h.bot.stats.connections, 0, 'no bot connection for a call nobody answered');
  });

  t.test('issue 10: a tenant at its daily cap: POST /v1/calls answers 429 and dials nothing', async (t) => {
    const trunkPort = await freeUdpPort();
    const uas = runSipp('uas-trunk-busy.xml', { port: trunkPort, mediaPort: await freeUdpPort(), timeoutSec: 20 });
    t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
    t.ok(await waitUdpBound(trunkPort), 'sipp trunk listening');
    const h = await setup(t, trunkPort, { protocol: 'twilio', port: 0 }, 'tenants: { default: { callsPerDay: 1 } }\n');
    const place = () => fetch(`http://127.0.0.1:${h.ports.api}/v1/calls`, {
      method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({ to: '4915112345', trunk: 'operator', bot: 'echo' }),
    });
    const first = await place();
    t.match(await first.json(), { result: 'busy' }, 'the day\'s one call is dialled');
    const second = await place();
    t.equal(second.status, 429);
    t.same(await second.json(), { error: { code: 'TENANT_DAILY_LIMIT' } });
    await until(() => h.records().length === 1, 5000, 'the first call\'s record');
    await new Promise((r) => setTimeout(r, 200));
    t.equal(h.records().length, 1, 'the refused request dialled nothing and left no record');
    t.equal(h.daemon.metrics.errorCount('TENANT_DAILY_LIMIT'), 1);
  });

  t.test('daemon stopped while an outbound call rings (after the drain): the dial ends as a shutdown, not as a lost drachtio-server', async (t) => {
    const trunkPort = await freeUdpPort();
    const uas = runSipp('uas-trunk-no-answer.xml', { port: trunkPort, mediaPort: await freeUdpPort(), timeoutSec: 20 });
    t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
    t.ok(await waitUdpBound(trunkPort), 'sipp trunk listening');
    const h = await setup(t, trunkPort, { protocol: 'twilio', port: 0 });
    const dial = fetch(`http://127.0.0.1:${h.ports.api}/v1/calls`, {
      method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({ to: '4915112345', trunk: 'operator', bot: 'echo', timeoutSec: 60 }),
    });
    await new Promise((r) => setTimeout(r, 1000)); // FreeSWITCH's leg placed, the trunk ringing
    await h.daemon.close();
    const body = await (await dial).json() as { callId: string; result: string; cause: string; code?: string };
    t.match(body, { result: 'failed', cause: 'SYSTEM_SHUTDOWN' });
    t.not(body.code, 'SIP_DRACHTIO_LOST');
    await until(() => h.records().length === 1, 5000, 'the call record');
    t.match(h.records()[0], { callId: body.callId, direction: 'outbound', endedBy: 'shutdown', cause: 'SYSTEM_SHUTDOWN' });
    t.not(h.records()[0].errorCode, 'SIP_DRACHTIO_LOST');
  });
}
