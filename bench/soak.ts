/**
 * Log soak (issue 8): `fsbridge run` and the FreeSWITCH twin as processes, `--calls` calls
 * (default 100) held for `--minutes` (default 10) with file playback, each to a Twilio bot that
 * echoes the caller and sends a mark after every media message (marks far faster than file
 * playback plays them: the flood that once wrote one warn line per mark). At the end every call
 * is hung up, the daemon stopped, and its log lines at warn or above are counted by code.
 *
 *   npm run build && node dist/bench/soak.js [--calls 100] [--minutes 10]
 *
 * Prints one JSON line: calls placed, records written, warn+ lines in all and by code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/main.js');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});

function start(args: string[], logFile: string): ChildProcess {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile);
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

async function waitForLine(file: string, re: RegExp, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { /* not yet */ }
    if (re.test(text)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${re} in ${file}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface EslConn { api(cmd: string, cb: (res: { getBody(): string }) => void): void; on(ev: string, cb: (...a: unknown[]) => void): void; disconnect(): void }
const esl = createRequire(import.meta.url)('modesl') as { Connection: new (h: string, p: number, pw: string, cb: () => void) => EslConn };

async function main(): Promise<void> {
  const calls = arg('calls', 100);
  const minutes = arg('minutes', 10);
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-soak-'));
  const eslPort = await freePort();
  const obPort = await freePort();

  // The bot: echo every media message back, then a mark.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let marks = 0;
  wss.on('connection', (ws) => {
    let sid = '';
    ws.on('message', (data, binary) => {
      if (binary) return;
      const m = JSON.parse(String(data)) as { event: string; streamSid?: string; media?: { payload: string } };
      if (m.event === 'start') sid = m.streamSid ?? '';
      if (m.event === 'media' && m.media) {
        ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: m.media.payload } }));
        ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: `m${marks++}` } }));
      }
    });
  });
  const botPort = (wss.address() as { port: number }).port;

  const cfg = join(dir, 'fsbridge.yaml');
  writeFileSync(cfg, `
log: { level: info }
freeswitch:
  esl: { host: 127.0.0.1, port: ${eslPort}, password: ClueCon }
  outboundSocket: { host: 127.0.0.1, port: ${obPort} }
  playback: file
media: { listen: "127.0.0.1:0" }
bots:
  soak: { url: "ws://127.0.0.1:${botPort}/", protocol: twilio }
api: { listen: "127.0.0.1:0", token: soak-token }
calls: { recordFile: ${JSON.stringify(join(dir, 'calls.jsonl'))}, drainTimeoutMs: 5000 }
store: { url: ${JSON.stringify(`sqlite:${join(dir, 'fsbridge.db')}`)} }
`);
  const twinLog = join(dir, 'twin.log');
  const twin = start(['sim', 'freeswitch', '--esl', `127.0.0.1:${eslPort}`, '--password', 'ClueCon', '--dialplan', 'dialplans',
    '--var', `fsbridge_outbound_socket=127.0.0.1:${obPort}`, '--temp-dir', join(dir, 'fs-tmp')], twinLog);
  await waitForLine(twinLog, /^ready /m, 20_000);
  const daemonLog = join(dir, 'fsbridge.log');
  const daemon = start(['run', '--config', cfg], daemonLog);
  await waitForLine(daemonLog, /"msg":"ready"/, 20_000);

  const c = await new Promise<EslConn>((resolve) => { const x = new esl.Connection('127.0.0.1', eslPort, 'ClueCon', () => resolve(x)); });
  const api = (cmd: string) => new Promise<string>((r) => c.api(cmd, (res) => r(res.getBody())));
  for (let i = 0; i < calls; i++) {
    await api('originate {sim_caller_tone=440}loopback/bot-soak/default &park');
  }
  const placedAt = Date.now();
  await new Promise((r) => setTimeout(r, minutes * 60_000));
  await api('hupall NORMAL_CLEARING');
  await new Promise((r) => setTimeout(r, 3000));
  c.disconnect();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  twin.kill('SIGTERM');
  await new Promise((r) => twin.once('exit', r));
  wss.close();

  const lines = readFileSync(daemonLog, 'utf8').split('\n').filter(Boolean);
  const byCode: Record<string, number> = {};
  let warn = 0;
  for (const l of lines) {
    let j: { level?: number; code?: string; errorCode?: string; msg?: string };
    try { j = JSON.parse(l) as typeof j; } catch { continue; }
    if ((j.level ?? 0) < 40) continue;
    warn++;
    const key = `${j.code ?? j.errorCode ?? '-'} ${j.msg ?? ''}`;
    byCode[key] = (byCode[key] ?? 0) + 1;
  }
  const records = readFileSync(join(dir, 'calls.jsonl'), 'utf8').split('\n').filter(Boolean).length;
  console.log(JSON.stringify({
    calls, minutes, heldMs: Date.now() - placedAt, marksSent: marks, records, logLines: lines.length, warnOrAbove: warn, byCode,
  }));
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => { console.error(err); process.exit(1); });
