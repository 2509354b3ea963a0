// Starts a real kamailio (test/e2e/kamailio/kamailio.cfg) on loopback for e2e tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';

export const KAMAILIO_CFG = join(dirname(fileURLToPath(import.meta.url)), 'kamailio', 'kamailio.cfg');

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

/** Starts kamailio on `port` with extra `-A` defines; resolves when it answers OPTIONS. */
export async function startKamailio(port: number, defines: string[]): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-kam-'));
  const args = ['-f', KAMAILIO_CFG, '-l', `udp:127.0.0.1:${port}`, '-Y', dir, '-w', dir, '-P', join(dir, 'k.pid'), '-E', '-DD', '-m', '16', '-M', '4'];
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
