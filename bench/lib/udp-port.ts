// Loopback UDP port helpers for runs that start sipp (bench/sip.ts and the e2e tests).
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

/** Ports already handed out by this process: the kernel may give a closed port 0 bind's port again. */
const given = new Set<number>();

/**
 * A UDP port on 127.0.0.1 that was free a moment ago (the child binds it right after), never one
 * this process handed out before: two picks in a row could be equal (a sipp's SIP and media port).
 */
export async function freeUdpPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const p = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    if (given.has(p)) continue;
    given.add(p);
    return p;
  }
  throw new Error('no free UDP port not handed out before');
}

/** Whether a UDP socket is bound to `port` on 127.0.0.1 or on any address, from /proc/net/udp (Linux); null when it cannot be read. */
function boundInProc(port: number): boolean | null {
  let table: string;
  try { table = readFileSync('/proc/net/udp', 'utf8'); } catch { return null; }
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return table.split('\n').some((l) => {
    const local = l.trim().split(/\s+/)[1];
    return local === `0100007F:${hex}` || local === `00000000:${hex}`;
  });
}

/**
 * Resolves true once something has bound UDP `port` on 127.0.0.1 (bounded: 100 tries, 50 ms
 * apart). Read from /proc/net/udp: probing by binding the port would hold it for a moment, and a
 * sipp binding it just then failed to start (seen as a rare "sipp trunk listening" failure).
 */
export async function waitUdpBound(port: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const inProc = boundInProc(port);
    if (inProc === true) return true;
    if (inProc === null) {
      const s = createSocket('udp4');
      const taken = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(true));
        s.bind(port, '127.0.0.1', () => resolve(false));
      });
      await new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } });
      if (taken) return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
