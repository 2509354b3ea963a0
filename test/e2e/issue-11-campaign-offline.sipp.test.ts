// Issue 11: a campaign call answered by the callee whose bot cannot be reached plays the
// campaign's offline prompt to the callee and hangs up; the call record says so
// (BOT_FALLBACK_PLAYED) and the attempt's outcome is bot-unreachable, retried per the rules. The
// trunk is a sipp UAS; drachtio and FreeSWITCH are the twins (the same flow runs against the real
// programs in test/real/issue-11-campaign-crash.real.test.ts).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wavHeader } from '../../src/media/wav-header.js';
import { runSipp, freeUdpPort, sippSkipReason, waitUdpBound } from './sipp-runner.js';
import type { Call } from '../../src/calls/call.js';
import type { CallRecord } from '../../src/calls/call-record.js';
import { until } from '../helpers/harness.js';
import { startTwinDaemon } from '../helpers/twin-daemon.js';

const skip = sippSkipReason();

t.test('the bot is unreachable: the callee hears the campaign\'s offline prompt, the attempt is bot-unreachable', { skip }, async (t) => {
  const trunkPort = await freeUdpPort();
  const { daemon, fs, ports, dir } = await startTwinDaemon(t, `
trunks:
  - { name: operator, registrar: "sip:127.0.0.1:${trunkPort}", register: false, outbound: { from: "4930999000" } }
bots:
  gone: { url: "ws://127.0.0.1:1/", protocol: twilio, connectTimeoutMs: 1000 }
`);
  // the campaign's prompt: a second of 440 Hz (a file: nothing but a file path is accepted)
  const prompt = join(dir, 'network-interruption.wav');
  const tone = Buffer.alloc(16000);
  for (let i = 0; i < 8000; i++) tone.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  writeFileSync(prompt, Buffer.concat([wavHeader(tone.length, 8000, 1), tone]));
  const uas = runSipp('uas-trunk-campaign.xml', { port: trunkPort, mediaPort: await freeUdpPort(), calls: 1, timeoutSec: 30, extra: ['-d', '8000'] });
  t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
  t.ok(await waitUdpBound(trunkPort), 'the sipp trunk listens');
  const calls: Call[] = [];
  const records: CallRecord[] = [];
  daemon.calls.on('call', (c) => { calls.push(c); c.once('ended', (r) => records.push(r)); });

  const r = await fetch(`http://127.0.0.1:${ports.api}/v1/campaigns`, {
    method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'offline', bot: 'gone', trunk: 'operator', offlinePrompt: prompt,
      retry: { 'bot-unreachable': { delaySec: 600, maxAttempts: 1 } }, contacts: ['+4915112345678'],
    }),
  });
  t.equal(r.status, 201);
  const id = ((await r.json()) as { id: string }).id;
  await until(() => records.length === 1, 20_000, 'the call record');
  t.match(records[0], { direction: 'outbound', to: '+4915112345678', endedBy: 'fsbridge', errorCode: 'BOT_FALLBACK_PLAYED' }, 'the record says the offline prompt was played');
  t.not(records[0].answeredAt, null, 'the callee answered');
  const ear = fs.earRecording(calls[0].fsUuid);
  let loud = 0;
  for (const s of ear) if (Math.abs(s) > 500) loud++;
  t.ok(loud > 1000, `the callee heard the prompt (${loud} loud samples)`);
  const status = async () => (await (await fetch(`http://127.0.0.1:${ports.api}/v1/campaigns/${id}/contacts`, { headers: { authorization: 'Bearer tok' } })).json()) as { contacts: { state: string; outcome: string; attempts: { outcome: string }[] }[] };
  for (let i = 0; i < 50 && (await status()).contacts[0].state === 'dialling'; i++) await new Promise((res) => setTimeout(res, 100));
  t.match((await status()).contacts[0], { state: 'exhausted', outcome: 'bot-unreachable', attempts: [{ outcome: 'bot-unreachable' }] }, 'bot-unreachable, with no attempt left per its rule');
});
