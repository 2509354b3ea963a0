// Loopback ports for real-program instances: free a moment ago, distinct between the test files
// that tap runs side by side (each asks the kernel, so two workers cannot get the same answer
// while both hold it; RTP ranges are checked port by port).
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => { try { s.close(); } catch { /* not bound */ } resolve(false); });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port free on TCP and UDP (SIP listens on both), outside 16384–40000 where RTP ranges are taken. */
export async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = randomInt(41_000, 60_000);
    if (await tcpFree(p) && await udpFree(p)) return p;
  }
  throw new Error('no free SIP port');
}

/** A free TCP port outside the RTP area (ESL, admin, outbound socket). */
export async function freeTcpPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = randomInt(41_000, 60_000);
    if (await tcpFree(p)) return p;
  }
  throw new Error('no free TCP port');
}

/** `count` consecutive UDP ports (even start) that are all free now, in 16384–40000. */
export async function freeRtpRange(count = 60): Promise<{ start: number; end: number }> {
  for (let i = 0; i < 100; i++) {
    const start = 16_384 + 2 * randomInt(0, (40_000 - 16_384 - count) / 2);
    let ok = true;
    for (let p = start; p < start + count && ok; p++) ok = await udpFree(p);
    if (ok) return { start, end: start + count - 1 };
  }
  throw new Error('no free RTP range');
}
