import { createHash } from 'node:crypto';
import net from 'node:net';
import type { BotConnection, BotCloseInfo } from '../../../src/bots/client.js';
import type { CallInfo } from '../../../src/bots/adapter.js';

/** Everything one BotConnection emitted, and a promise for its close. */
export interface Recorded {
  events: string[];
  errors: string[];
  messages: { data: Buffer; isBinary: boolean }[];
  closes: { code: number; reason: string; info: BotCloseInfo }[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string; info: BotCloseInfo }>;
}

/** Records the events of `conn` (attach before connect()). */
export function record(conn: BotConnection): Recorded {
  const r: Recorded = {
    events: [], errors: [], messages: [], closes: [],
    opened: undefined as unknown as Promise<void>,
    closed: undefined as unknown as Promise<{ code: number; reason: string; info: BotCloseInfo }>,
  };
  r.opened = new Promise((resolve) => conn.on('open', () => { r.events.push('open'); resolve(); }));
  r.closed = new Promise((resolve) => conn.on('close', (code, reason, info) => {
    r.events.push('close');
    r.closes.push({ code, reason, info });
    resolve({ code, reason, info });
  }));
  conn.on('error', (e) => { r.events.push('error'); r.errors.push(e.code); });
  conn.on('message', (data, isBinary) => { r.events.push('message'); r.messages.push({ data, isBinary }); });
  return r;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A raw TCP server on 127.0.0.1 that completes websocket upgrades by hand (RFC 6455 §4.2.2) and
 * then does nothing: it neither answers close frames nor, when `pause` is set, reads at all.
 * With `upgrade: false` it accepts TCP and never answers the HTTP request.
 */
export async function rawServer(opts: { upgrade: boolean; pause?: boolean }): Promise<{
  port: number; sockets: net.Socket[]; connected: Promise<net.Socket>; upgraded: Promise<void>; close(): Promise<void>;
}> {
  const sockets: net.Socket[] = [];
  let onConn: (s: net.Socket) => void = () => {};
  let onUpgraded: () => void = () => {};
  const connected = new Promise<net.Socket>((r) => { onConn = r; });
  const upgraded = new Promise<void>((r) => { onUpgraded = r; });
  const server = net.createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => {});
    onConn(sock);
    if (!opts.upgrade) return;
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
      if (opts.pause) sock.pause(); else sock.on('data', () => {});
      onUpgraded();
    };
    sock.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, sockets, connected, upgraded,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A CallInfo for tests. */
export function callInfo(over: Partial<CallInfo> = {}): CallInfo {
  return {
    callId: 'call-1', fsUuid: '0b5a7c3e-0000-4000-8000-000000000001', from: '+15551230001', to: '+15551230002',
    direction: 'inbound', params: { lang: 'en', tier: 'gold' }, accountSid: 'AC' + '0'.repeat(32), ...over,
  };
}
