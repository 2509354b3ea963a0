// Issue 8, defect 5: `systemctl reload` (SIGHUP, the shipped unit's ExecReload) never ends the
// daemon or a call: `fsbridge run` and the FreeSWITCH twin as separate processes, a live call,
// SIGHUP with a changed file (log level and a new bot applied, a listener change reported as
// needing a restart) and with an invalid file (nothing changes), then the call still ends normally.
import t from 'tap';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { freePort, Proc } from '../../helpers/process.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';

interface EslEvent { getBody(): string }
interface EslConn { api(cmd: string, cb: (res: EslEvent) => void): void; on(ev: string, cb: (...a: unknown[]) => void): void; disconnect(): void }
const esl = createRequire(import.meta.url)('modesl') as { Connection: new (h: string, p: number, pw: string, cb: () => void) => EslConn };
const connectEsl = (port: number) => new Promise<EslConn>((resolve, reject) => {
  const c = new esl.Connection('127.0.0.1', port, 'ClueCon', () => resolve(c));
  c.on('error', (e) => reject(e as Error));
});
const api = (c: EslConn, cmd: string) => new Promise<string>((r) => c.api(cmd, (res) => r(res.getBody())));

t.test('SIGHUP reloads what it can, refuses a bad file, and never touches the daemon or its calls', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-hup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const eslPort = await freePort();
  const obPort = await freePort();
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const records = join(dir, 'calls.jsonl');
  const yaml = (level: string, extraBot = '', apiPort = '0') => `
log: { level: ${level} }
freeswitch:
  esl: { host: 127.0.0.1, port: ${eslPort}, password: ClueCon }
  outboundSocket: { host: 127.0.0.1, port: ${obPort} }
media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(join(dir, 'pipes'))} }
bots:
  echo: { url: "${bot.url}twilio", protocol: twilio }
${extraBot}
api: { listen: "127.0.0.1:${apiPort}", token: tok }
calls: { recordFile: ${JSON.stringify(records)}, drainTimeoutMs: 2000 }
store: { url: ${JSON.stringify(`sqlite:${join(dir, 'fsbridge.db')}`)} }
`;
  const cfg = join(dir, 'fsbridge.yaml');
  writeFileSync(cfg, yaml('info'));
  const twin = new Proc(['sim', 'freeswitch', '--esl', `127.0.0.1:${eslPort}`, '--password', 'ClueCon', '--dialplan', 'dialplans',
    '--var', `fsbridge_outbound_socket=127.0.0.1:${obPort}`, '--temp-dir', join(dir, 'fs-tmp')]);
  t.teardown(() => twin.stop('SIGKILL'));
  await twin.waitFor(/^ready /);
  const fsb = new Proc(['run', '--config', cfg]);
  t.teardown(() => fsb.stop('SIGKILL'));
  await fsb.waitFor(/"msg":"ready"/);

  const c = await connectEsl(eslPort);
  t.teardown(() => c.disconnect());
  const reply = await api(c, 'originate {sim_caller_tone=440}loopback/bot-echo/default &park');
  const aLeg = /^\+OK (\S+)/.exec(reply)![1];
  await fsb.waitFor(/"to":"connected"/);

  // 1. a valid change: log level and a new bot apply; a new API port needs a restart
  let mark = fsb.lines.length;
  writeFileSync(cfg, yaml('debug', '  other: { url: "ws://127.0.0.1:9/x", protocol: native }', String(await freePort())));
  fsb.child.kill('SIGHUP');
  const reloaded = JSON.parse(await fsb.waitFor(/configuration reloaded/, 5000, mark)) as { applied: string[]; needsRestart: string[] };
  t.same(reloaded.applied, ['log.level', 'bots']);
  t.same(reloaded.needsRestart, ['api']);

  // 2. an invalid file: refused, nothing changes
  mark = fsb.lines.length;
  writeFileSync(cfg, 'log: { level: nonsense }\n');
  fsb.child.kill('SIGHUP');
  await fsb.waitFor(/CONFIG_RELOAD_FAILED/, 5000, mark);

  t.equal(fsb.child.exitCode, null, 'the daemon is still running');
  t.equal(await api(c, `uuid_exists ${aLeg}`), 'true', 'the call is still up');
  await api(c, `uuid_kill ${aLeg}`);
  await fsb.waitFor(/"msg":"call ended"/);
  t.equal(await fsb.stop('SIGTERM'), 0, 'SIGTERM still drains and exits 0');
  const recs = readFileSync(records, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { endedBy: string });
  t.equal(recs.length, 1);
  t.equal(recs[0].endedBy, 'caller');
});
