// Loopback ports for real-program instances: free a moment ago, never handed out twice by one test
// process (two picks used to be equal once in a while: "--esl-port and --sip-port must differ"),
// and below the kernel's ephemeral range (32768–60999), so that a port-0 listener or an outgoing
// connection of another process cannot take one between the pick and the program's bind. RTP
// ranges are checked port by port.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';

/** SIP, ESL, admin and outbound-socket ports: 10000–16383, under the RTP area and the ephemeral range. */
const LOW = 10_000;
const HIGH = 16_384;
const given = new Set<number>();

/** A port of LOW–HIGH not handed out before by this process and free now by `free`. */
async function pick(free: (p: number) => Promise<boolean>, what: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = randomInt(LOW, HIGH);
    if (given.has(p)) continue;
    if (await free(p)) { given.add(p); return p; }
  }
  throw new Error(`no free ${what} port`);
}

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
export function freeSipPort(): Promise<number> {
  return pick(async (p) => await tcpFree(p) && await udpFree(p), 'SIP');
}

/** A free TCP port outside the RTP area (ESL, admin, outbound socket). */
export function freeTcpPort(): Promise<number> {
  return pick(tcpFree, 'TCP');
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
