// Done-criterion of issue 10: `fsbridge run` killed with SIGKILL during 50 live calls leaves 50
// records in the store, and the next start closes each of them with a cause that says so
// (CALL_DAEMON_CRASHED, ended by fsbridge, never by the caller), on SQLite and on a real
// PostgreSQL. The daemon runs as its own process; the FreeSWITCH twin and the bot in this one.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { FreeswitchTwin } from '../../../src/sim/freeswitch/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { startEchoBot } from '../../../src/bots/sample/echo-bot.js';
import { Proc, ROOT } from '../../helpers/process.js';
import { freeTcpPort } from '../../helpers/real/ports.js';
import { eachBackend } from '../../helpers/store-backends.js';

const CALLS = 50;

t.test(`kill -9 during ${CALLS} live calls: ${CALLS} records, closed at the next start`, (t) => eachBackend(t, async (t, b) => {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bot = await startEchoBot({ protocol: 'twilio', port: 0 });
  t.teardown(() => bot.close());
  const db = await b.fresh(t);
  const twin = new FreeswitchTwin({
    host: '127.0.0.1', port: 0, password: 'ClueCon', dialplanDir: join(ROOT, 'dialplans'),
    logger: silentLogger(), playback: 'file', tempDir: join(dir, 'fs-tmp'),
  });
  await twin.start();
  t.teardown(() => twin.close());
  const obPort = await freeTcpPort();
  const apiPort = await freeTcpPort();
  await twin.api(`global_setvar fsbridge_outbound_socket=127.0.0.1:${obPort}`);
  const cfg = join(dir, 'fsbridge.yaml');
  writeFileSync(cfg, `
log: { level: info }
freeswitch:
  esl: { host: 127.0.0.1, port: ${twin.port}, password: ClueCon }
  outboundSocket: { host: 127.0.0.1, port: ${obPort} }
  playback: file
media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(join(dir, 'pipes'))}, workers: 0 }
bots:
  echo: { url: "${bot.url}twilio", protocol: twilio }
api: { listen: "127.0.0.1:${apiPort}", token: tok }
calls: { recordFile: ${JSON.stringify(join(dir, 'calls.jsonl'))} }
store: { url: ${JSON.stringify(db.url)}, nodeId: crash-node${db.password ? ', password: env:PGPW' : ''} }
`);
  const env: Record<string, string> = db.password ? { PGPW: db.password } : {};
  const api = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${apiPort}${path}`, { headers: { authorization: 'Bearer tok' } });
    return (await r.json()) as { calls: Record<string, unknown>[] };
  };
  const poll = async (what: string, pred: () => Promise<boolean>) => {
    for (let i = 0; i < 600; i++) { if (await pred()) return; await new Promise((r) => setTimeout(r, 50)); }
    throw new Error(`timed out waiting for ${what}`);
  };

  const first = new Proc(['run', '--config', cfg], env);
  t.teardown(() => first.stop('SIGKILL'));
  await first.waitFor(/"msg":"ready"/);
  for (let i = 0; i < CALLS; i++) {
    const reply = await twin.api(`originate {sim_caller_tone=440}loopback/bot-echo/default &park`);
    t.match(reply, /^\+OK /, `call ${i + 1} placed`);
  }
  await poll(`${CALLS} connected calls`, async () => (await api('/v1/calls?state=live')).calls.filter((c) => c.state === 'connected').length === CALLS);
  await poll(`${CALLS} live rows in the store`, async () => (await api('/v1/calls?state=live&limit=1000')).calls.length === CALLS
    && (await api('/v1/calls?limit=1000')).calls.filter((c) => c.state === 'live').length === CALLS);
  const liveIds = (await api('/v1/calls?state=live')).calls.map((c) => c.callId).sort();
  t.equal(await first.stop('SIGKILL'), null, 'killed');

  const second = new Proc(['run', '--config', cfg], env);
  t.teardown(() => second.stop('SIGKILL'));
  await second.waitFor(/"msg":"ready"/);
  const recovered = JSON.parse(await second.waitFor(/closed as CALL_DAEMON_CRASHED/)) as { calls: number };
  t.equal(recovered.calls, CALLS, 'the start closed every call the killed daemon left open');
  const rows = (await api('/v1/calls?limit=1000')).calls;
  t.same(rows.map((c) => c.callId).sort(), liveIds, `the store holds the ${CALLS} calls, no more`);
  for (const c of rows) {
    const ok = c.state === 'ended' && c.endedBy === 'fsbridge' && c.errorCode === 'CALL_DAEMON_CRASHED'
      && c.cause === 'NORMAL_TEMPORARY_FAILURE' && c.causeCode === 41 && c.connectedAt !== null
      && Date.parse(String(c.endedAt)) >= Date.parse(String(c.connectedAt)) && (c.billableMs as number) >= 0;
    if (!ok) t.fail(`call ${String(c.callId)} closed wrongly: ${JSON.stringify(c)}`);
  }
  t.pass(`each of the ${CALLS} was closed by fsbridge as CALL_DAEMON_CRASHED, none as ended by the caller`);
  t.equal(await second.stop('SIGTERM'), 0, 'the second run stops cleanly');
}));
