// Done-criterion of issue 2: `fsbridge run` and the FreeSWITCH twin as separate processes; a call
// into the shipped dialplan's bot extension is answered by fsbridge over the outbound socket; the
// twin is killed and started again, and fsbridge reconnects and resubscribes (how long the
// reconnect took is printed: a figure, not a pass mark on a loaded machine).
import t from 'tap';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { freePort, Proc } from '../../helpers/process.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { until } from '../../helpers/harness.js';

interface EslEvent { getHeader(name: string): string | undefined; getBody(): string }
interface EslConn {
  api(cmd: string, cb: (res: EslEvent) => void): void;
  on(ev: string, cb: (...a: unknown[]) => void): void;
  disconnect(): void;
}

function connectEsl(port: number): Promise<EslConn> {
  return new Promise((resolve, reject) => {
    const c = new esl.Connection('127.0.0.1', port, 'ClueCon', () => resolve(c));
    c.on('error', (e) => reject(e as Error));
  });
}
// modesl 1.2.1 is CommonJS without type declarations.
const esl = createRequire(import.meta.url)('modesl') as { Connection: new (h: string, p: number, pw: string, cb: () => void) => EslConn };
const api = (c: EslConn, cmd: string) => new Promise<string>((r) => c.api(cmd, (res) => r(res.getBody())));

t.test('fsbridge run answers a dialplan call from the twin and survives a twin restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-it-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const eslPort = await freePort();
  const obPort = await freePort();
  const bot = await startEchoBot({ protocol: 'twilio', port: 0, greeting: new Int16Array(8000).map((_, i) => Math.round(9000 * Math.sin(i / 3))) });
  t.teardown(() => bot.close());
  const records = join(dir, 'calls.jsonl');
  writeFileSync(join(dir, 'fsbridge.yaml'), `
log: { level: info }
freeswitch:
  esl: { host: 127.0.0.1, port: ${eslPort}, password: env:TEST_ESL_PASSWORD, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } }
  outboundSocket: { host: 127.0.0.1, port: ${obPort} }
  playback: file
media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(join(dir, 'pipes'))} }
bots:
  echo: { url: "${bot.url}twilio", protocol: twilio }
api: { listen: "127.0.0.1:0", token: env:TEST_API_TOKEN }
calls: { recordFile: ${JSON.stringify(records)}, drainTimeoutMs: 2000 }
store: { url: ${JSON.stringify(`sqlite:${join(dir, 'fsbridge.db')}`)} }
`);
  const twinArgs = ['sim', 'freeswitch', '--esl', `127.0.0.1:${eslPort}`, '--password', 'ClueCon', '--dialplan', 'dialplans',
    '--var', `fsbridge_outbound_socket=127.0.0.1:${obPort}`, '--temp-dir', join(dir, 'fs-tmp')];
  let twin = new Proc(twinArgs);
  t.teardown(() => twin.stop('SIGKILL'));
  await twin.waitFor(/^ready /);
  const fsb = new Proc(['run', '--config', join(dir, 'fsbridge.yaml')], { TEST_ESL_PASSWORD: 'ClueCon', TEST_API_TOKEN: 'tok' });
  t.teardown(() => fsb.stop('SIGKILL'));
  await fsb.waitFor(/"msg":"ready"/);

  // A call into the shipped dialplan's bot extension (bot-<name>), answered by fsbridge.
  const c1 = await connectEsl(eslPort);
  const reply = await api(c1, `originate {sim_caller_tone=440}loopback/bot-echo/default &park`);
  t.match(reply, /^\+OK [0-9a-f-]{36}/);
  const aLeg = reply.slice(4).trim();
  await fsb.waitFor(/"to":"answered"/);
  await fsb.waitFor(/"to":"connected"/);
  t.pass('fsbridge answered the call over the outbound socket and connected the bot');
  t.equal(await api(c1, `uuid_exists ${aLeg}`), 'true');
  await api(c1, `uuid_kill ${aLeg}`);
  await fsb.waitFor(/"msg":"call ended"/);
  c1.disconnect();

  // Kill the twin; start it again on the same port; fsbridge must reconnect.
  const before = fsb.lines.length;
  await twin.stop('SIGKILL');
  await fsb.waitFor(/esl control disconnected/, 15_000, before);
  twin = new Proc(twinArgs);
  await twin.waitFor(/^ready /);
  const restartedAt = Date.now();
  await fsb.waitFor(/"reconnect":true.*esl control connected|esl control connected.*"reconnect":true/, 15_000, before);
  t.pass('fsbridge reconnected to the restarted twin');
  t.comment(`reconnected ${Date.now() - restartedAt} ms after the twin restarted`);

  // Resubscribed: in file playback the bot's greeting reaches the caller only through
  // mod_audio_stream::play events on the control connection.
  const ear = join(dir, 'ear.wav');
  const c2 = await connectEsl(eslPort);
  const mark = fsb.lines.length;
  const greetings = () => bot.stats.marksReceived.filter((m) => m === 'greeting').length;
  const greetingsBefore = greetings();
  const reply2 = await api(c2, `originate {sim_caller_tone=440}loopback/bot-echo/default &park`);
  const aLeg2 = reply2.slice(4).trim();
  const connected = await fsb.waitFor(/"to":"connected"/, 10000, mark);
  // Record what fsbridge's leg (the B leg, running the dialplan) plays to the caller.
  const bLeg2 = (JSON.parse(connected) as { fsUuid: string }).fsUuid;
  t.equal(await api(c2, `uuid_setvar ${bLeg2} sim_record_ear ${ear}`), '+OK\n');
  // Wait until FreeSWITCH reported the end of the greeting's playback through the control
  // connection (fsbridge then answers the bot's "greeting" mark). The bound is a safety net only.
  await until(() => greetings() > greetingsBefore, 30_000, 'the greeting mark');
  await api(c2, `uuid_kill ${aLeg2}`);
  await fsb.waitFor(/"msg":"call ended"/, 10000, mark);
  c2.disconnect();
  for (let i = 0; i < 50 && !existsSync(ear); i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(existsSync(ear), 'the twin wrote what the caller heard');
  const pcm = new Int16Array(readFileSync(ear).buffer.slice(44));
  let energy = 0;
  for (const s of pcm) energy += s * s;
  const rms = Math.sqrt(energy / Math.max(1, pcm.length));
  t.ok(rms > 500, `the caller heard the bot after the reconnect (rms ${rms.toFixed(0)})`);

  // Exactly one record per call, with the caller as the ender.
  t.equal(await fsb.stop('SIGTERM'), 0, 'SIGTERM exits 0');
  const recs = readFileSync(records, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(recs.length, 2);
  for (const r of recs) t.match(r, { endedBy: 'caller', cause: 'NORMAL_CLEARING', bot: 'echo', direction: 'inbound' });
});
