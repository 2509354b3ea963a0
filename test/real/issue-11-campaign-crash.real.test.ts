// Done-criterion of issue 11 (real sockets): a 200-contact campaign dials a sipp trunk through the
// real drachtio-server and FreeSWITCH; `fsbridge run` is killed with SIGKILL in the middle and
// started again. Every contact ends in exactly one final state, no number reaches the trunk more
// often than its stored attempts allow, and the attempts left open by the killed run are resolved
// from their calls' records. Before it, a campaign whose bot is unreachable plays its offline
// prompt through the real FreeSWITCH (which reports the prompt played to its end).
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { wavHeader } from '../../src/media/wav-header.js';
import { join } from 'node:path';
import { realSkipReason } from '../helpers/real/realfs.js';
import { RealFreeswitch } from '../helpers/real/freeswitch.js';
import { RealDrachtio } from '../helpers/real/drachtio.js';
import { DaemonProcess } from '../helpers/real/daemon-process.js';
import { freeSipPort } from '../helpers/real/ports.js';
import { sippSkipReason, runSipp, freeUdpPort, waitUdpBound } from '../e2e/sipp-runner.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import { until } from '../helpers/harness.js';

/** Polls an async condition every 200 ms. */
async function poll(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await pred());) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const skip = realSkipReason() || sippSkipReason();
const CONTACTS = 200;

t.test(`SIGKILL in the middle of a ${CONTACTS}-contact campaign, then a restart: each contact dialled per its attempts, all final`, { skip }, async (t) => {
  const echo = await startEchoBot({ protocol: 'twilio', port: 0, markEveryMs: Infinity });
  t.teardown(() => echo.close());
  const trunkPort = await freeSipPort();
  const drachtio = await RealDrachtio.start(t, 'real-secret');
  const fs = await RealFreeswitch.start(t);
  const daemon = await DaemonProcess.start(t, {
    fs, drachtio, playback: 'file',
    yaml: `
trunks:
  - name: operator
    registrar: "sip:127.0.0.1:${trunkPort}"
    register: false
    outbound: { from: "4930999000", maxConcurrent: 30, callsPerSecond: 50 }
bots:
  echo: { url: "${echo.url}twilio", protocol: twilio }
  gone: { url: "ws://127.0.0.1:1/", protocol: twilio, connectTimeoutMs: 1000 }
`,
  });
  // the trunk: answers every INVITE, hangs up 1.5 s later, logs each INVITE's request URI
  const log = join(daemon.dir, 'trunk-invites.log');
  const uas = runSipp('uas-trunk-campaign.xml', {
    port: trunkPort, mediaPort: await freeUdpPort(), calls: 100_000, timeoutSec: 600,
    extra: ['-d', '1500', '-trace_logs', '-log_file', log, '-max_recv_loops', '1000'],
  });
  t.teardown(() => { if (uas.child.exitCode === null) uas.child.kill(); });
  t.ok(await waitUdpBound(trunkPort), 'the sipp trunk listens');

  // the offline prompt: 0.3 s of 440 Hz, played by the real FreeSWITCH when the bot cannot be reached
  const OFFLINE = '+4915119990000';
  const prompt = join(daemon.dir, 'network-interruption.wav');
  const tone = Buffer.alloc(4800);
  for (let i = 0; i < 2400; i++) tone.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  writeFileSync(prompt, Buffer.concat([wavHeader(tone.length, 8000, 1), tone]));
  const offline = await daemon.request('POST', '/v1/campaigns', {
    name: 'offline', bot: 'gone', trunk: 'operator', offlinePrompt: prompt, retry: { 'bot-unreachable': { delaySec: 60, maxAttempts: 1 } }, contacts: [OFFLINE],
  });
  t.equal(offline.status, 201, JSON.stringify(offline.body));
  await poll(async () => (await daemon.request('GET', `/v1/campaigns/${offline.body.id}`)).body.state === 'completed', 30_000, 'the offline campaign');
  const rec = daemon.records().find((r) => r.to === OFFLINE);
  t.match(rec, { direction: 'outbound', endedBy: 'fsbridge', errorCode: 'BOT_FALLBACK_PLAYED' }, 'FreeSWITCH played the prompt to its end (its PLAYBACK_STOP ended the call)');
  t.ok(rec && rec.answeredAt !== null && rec.billableMs >= 300, `answered, and long enough for the prompt (${rec?.billableMs} ms)`);
  const oc = (await daemon.request('GET', `/v1/campaigns/${offline.body.id}/contacts`)).body.contacts[0];
  t.match(oc, { state: 'exhausted', outcome: 'bot-unreachable' }, 'the attempt is bot-unreachable');

  const numbers = Array.from({ length: CONTACTS }, (_, i) => `+4915112${String(340000 + i)}`);
  const created = await daemon.request('POST', '/v1/campaigns', {
    name: 'crash', bot: 'echo', trunk: 'operator', ringTimeoutSec: 20,
    pacing: { maxConcurrent: 12, callsPerSecond: 10 },
    retry: { 'failed': { delaySec: 1, maxAttempts: 3 }, 'bot-unreachable': { delaySec: 1, maxAttempts: 3 }, 'no-answer': { delaySec: 1, maxAttempts: 3 }, 'busy': { delaySec: 1, maxAttempts: 3 } },
    contacts: numbers.map((number) => ({ number, vars: { greeting: 'hello' } })),
  });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  const status = async () => (await daemon.request('GET', `/v1/campaigns/${id}`)).body as { state: string; counts: Record<string, number> };

  // kill it once about a third of the contacts are done, with calls in flight
  await poll(async () => ((await status()).counts.completed ?? 0) >= CONTACTS / 3, 120_000, 'a third of the contacts completed');
  const before = await status();
  t.ok((before.counts.dialling ?? 0) > 0, `calls in flight at the kill (${JSON.stringify(before.counts)})`);
  t.equal(await daemon.proc.stop('SIGKILL'), null, 'killed');

  await daemon.startProcess();
  const recovered = daemon.logLines(/resolved from their call records/);
  t.ok(recovered.length > 0, 'the restart resolved the attempts the killed run left open');
  await poll(async () => (await status()).state === 'completed', 180_000, 'the campaign completed');
  const after = await status();
  t.comment(`final: ${JSON.stringify(after.counts)}`);
  t.equal(Object.values(after.counts).reduce((a, b) => a + b, 0), CONTACTS, 'every contact is counted once');
  t.notOk(after.counts.pending || after.counts.dialling, 'none is left pending or dialling');

  // the contacts and their stored attempts
  const attempts = new Map<string, number>();
  for (let after = -1; ;) {
    const page = (await daemon.request('GET', `/v1/campaigns/${id}/contacts?limit=1000&after=${after}`)).body as { contacts: { seq: number; number: string; state: string; attempts: unknown[] }[]; next: number | null };
    for (const c of page.contacts) attempts.set(c.number, c.attempts.length);
    if (page.next === null) break;
    after = page.next;
  }
  t.equal(attempts.size, CONTACTS);

  // what the trunk saw
  await until(() => existsSync(log), 5000, 'the trunk log');
  const invites = new Map<string, number>();
  for (const m of readFileSync(log, 'utf8').matchAll(/^INVITE (\+?\d+)$/gm)) invites.set(m[1], (invites.get(m[1]) ?? 0) + 1);
  invites.delete(OFFLINE);
  const total = [...invites.values()].reduce((a, b) => a + b, 0);
  t.ok(total >= CONTACTS, `the trunk got ${total} INVITEs for ${invites.size} numbers`);
  const over = [...invites].filter(([n, c]) => c > (attempts.get(n) ?? 0));
  t.same(over, [], 'no number was dialled more often than its stored attempts');
  t.same([...invites.keys()].filter((n) => !attempts.has(n)), [], 'besides the offline call, the trunk saw only the campaign\'s numbers');
  const twice = [...invites.values()].filter((c) => c > 1).length;
  t.comment(`numbers dialled more than once (retried per the rules after the kill): ${twice}`);

  // the results export has one row per stored attempt
  const csv = await fetch(`http://127.0.0.1:${daemon.apiPort}/v1/campaigns/${id}/export`, { headers: { authorization: 'Bearer real-test-token' } });
  const lines = (await csv.text()).trim().split('\r\n');
  const stored = [...attempts.values()].reduce((a, b) => a + b, 0);
  t.equal(lines.length - 1, stored, `the export has one row per attempt (${stored})`);
});
