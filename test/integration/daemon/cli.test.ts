// The command line as an operator meets it: exit codes, messages that name the problem, and the
// daemon's reaction to a wrong ESL password and to FreeSWITCH not running.
import t from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { freePort, Proc } from '../../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'fsbridge-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, eslPort: number, password = 'env:TEST_ESL_PASSWORD'): string {
  const file = join(dir, name);
  writeFileSync(file, `
freeswitch:
  esl: { port: ${eslPort}, password: ${password}, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } }
  outboundSocket: { port: 0 }
media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(join(dir, 'pipes'))} }
api: { listen: "127.0.0.1:0", token: env:TEST_API_TOKEN }
calls: { recordFile: ${JSON.stringify(join(dir, 'calls.jsonl'))} }
store: { url: ${JSON.stringify(`sqlite:${join(dir, 'fsbridge.db')}`)} }
bots:
  support: { url: "ws://127.0.0.1:9/", protocol: twilio }
`);
  return file;
}
const ENV = { TEST_ESL_PASSWORD: 'ClueCon', TEST_API_TOKEN: 'tok' };

t.test('check-config: 0 when valid, 2 with every error listed', async (t) => {
  const ok = new Proc(['check-config', '--config', config('ok.yaml', 8021)], ENV);
  t.equal(await ok.exited, 0);
  t.match(ok.lines.join('\n'), /^config OK/m);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'freeswitch:\n  esl: { port: 80a, pasword: x }\nbots:\n  b: { url: "http://x", protocol: skype }\nroutes:\n  - { did: "+1555", bot: nosuch }\n');
  const p = new Proc(['check-config', '--config', bad], {});
  t.equal(await p.exited, 2);
  const out = p.lines.join('\n');
  for (const path of ['freeswitch.esl.port', 'freeswitch.esl.pasword', 'bots.b.url', 'bots.b.protocol', 'routes[0].bot', 'api.token']) {
    t.match(out, path, `names ${path}`);
  }
});

t.test('print-config redacts secrets', async (t) => {
  const p = new Proc(['print-config', '--config', config('print.yaml', 8021)], { ...ENV, TEST_API_TOKEN: 'sekrit-token-value' });
  t.equal(await p.exited, 0);
  const out = p.lines.join('\n');
  t.notMatch(out, 'sekrit-token-value');
  t.notMatch(out, 'ClueCon');
  t.match(out, '[redacted]');
});

t.test('run with an invalid configuration exits 78', async (t) => {
  const p = new Proc(['run', '--config', join(dir, 'missing.yaml')], {});
  t.equal(await p.exited, 78);
});

t.test('FreeSWITCH not running: fsbridge says so, retries with backoff, connects when it appears', async (t) => {
  const eslPort = await freePort();
  const fsb = new Proc(['run', '--config', config('late.yaml', eslPort)], ENV);
  t.teardown(() => fsb.stop('SIGKILL'));
  await fsb.waitFor(/ESL_CONNECT_FAILED/);
  await fsb.waitFor(/ESL_CONNECT_FAILED/, 5000, fsb.lines.findIndex((l) => /ESL_CONNECT_FAILED/.test(l)) + 1);
  t.pass('at least two failed attempts were logged with ESL_CONNECT_FAILED');
  const twin = new Proc(['sim', 'freeswitch', '--esl', `127.0.0.1:${eslPort}`, '--dialplan', 'dialplans']);
  t.teardown(() => twin.stop('SIGKILL'));
  await twin.waitFor(/^ready /);
  await fsb.waitFor(/"msg":"ready"/, 5000);
  t.equal(await fsb.stop('SIGTERM'), 0);
});

t.test('wrong ESL password: one clear fatal line, exit 77, no retry loop', async (t) => {
  const eslPort = await freePort();
  const twin = new Proc(['sim', 'freeswitch', '--esl', `127.0.0.1:${eslPort}`, '--password', 'right', '--dialplan', 'dialplans']);
  t.teardown(() => twin.stop('SIGKILL'));
  await twin.waitFor(/^ready /);
  const fsb = new Proc(['run', '--config', config('wrongpw.yaml', eslPort)], { ...ENV, TEST_ESL_PASSWORD: 'wrong' });
  t.teardown(() => fsb.stop('SIGKILL'));
  t.equal(await fsb.exited, 77);
  const fatal = fsb.lines.filter((l) => /ESL_AUTH_FAILED/.test(l) && /"level":60/.test(l));
  t.ok(fatal.length >= 1, 'a fatal log line with the code');
  t.equal(fsb.lines.filter((l) => /esl control connected/.test(l)).length, 0);
  t.notMatch(fsb.lines.join('\n'), /"wrong"/, 'the password is not logged');
});
