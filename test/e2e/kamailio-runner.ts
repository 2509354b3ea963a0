// Starts a real kamailio on loopback for e2e tests: the registrar cfg (test/e2e/kamailio/kamailio.cfg)
// by default, or another cfg such as the shipped deploy/kamailio/kamailio.cfg.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import { haveBinary } from './sipp-runner.js';

export const KAMAILIO_CFG = join(dirname(fileURLToPath(import.meta.url)), 'kamailio', 'kamailio.cfg');
/** The shipped scale-out cfg (dispatcher in front of fsbridge nodes); needs `-A 'DS_LIST="<file>"'`. */
export const DEPLOY_KAMAILIO_CFG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'kamailio', 'kamailio.cfg');

/**
 * Why the kamailio tests cannot run here (one line saying how to get it), or false. With CI=true it
 * throws instead: CI must not skip them.
 */
export function kamailioSkipReason(): string | false {
  const why = haveBinary('kamailio') ? false : 'kamailio not installed: apt-get install kamailio';
  if (why && process.env.CI === 'true') throw new Error(`${why}; CI must not skip the kamailio tests`);
  return why;
}

export interface Kamailio { child: ChildProcess; port: number; output: () => string; stop: () => Promise<void> }

/** Sends OPTIONS until kamailio answers (bounded: 100 tries, 100 ms apart). */
async function waitReady(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  let ok = false;
  s.on('message', (b) => { if (b.toString().startsWith('SIP/2.0 200')) ok = true; });
  for (let i = 0; i < 100 && !ok; i++) {
    const me = s.address().port;
    const msg = [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKprobe${i}`, 'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=p${i}`, `To: <sip:127.0.0.1:${port}>`, `Call-ID: probe-${i}`, '' + `CSeq: ${i + 1} OPTIONS`, 'Content-Length: 0', '', ''].join('\r\n');
    s.send(msg, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

/**
 * Starts kamailio with `cfg` (the registrar cfg unless given) listening on udp:127.0.0.1:`port`, with
 * extra `-A` defines (`NAME` or `NAME=value`; string values keep their double quotes); resolves when
 * it answers OPTIONS. Its runtime files (ctl socket, pid) live in a temporary directory removed by
 * `stop()`, which resolves once the process has exited.
 */
export async function startKamailio(port: number, defines: string[], cfg: string = KAMAILIO_CFG): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-kam-'));
  const args = ['-f', cfg, '-l', `udp:127.0.0.1:${port}`, '-Y', dir, '-w', dir, '-P', join(dir, 'k.pid'), '-E', '-DD', '-m', '16', '-M', '4'];
  for (const d of defines) args.push('-A', d);
  const child = spawn('kamailio', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (b: Buffer) => { out += b.toString(); if (out.length > 400_000) out = out.slice(-200_000); };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitReady(port))) {
    await stop();
    throw new Error(`kamailio did not start: ${out.slice(-2000)}`);
  }
  return { child, port, output: () => out, stop };
}
