import { connect as netConnect, type Socket } from 'node:net';
import { EslConnection, type EslHost } from './esl-connection.js';
import { HANGUP, type Session } from './session.js';

/** Default port of the `socket` application (mod_event_socket.c). */
export const DEFAULT_OUTBOUND_PORT = 8084;
const CONNECT_TIMEOUT_MS = 5_000;

/** One target of `socket host[:port][/path][|host2...]`. */
export interface SocketTarget { host: string; port: number; path?: string }

/** Parses the `socket` application data: targets separated by `|`, then the words async / full. */
export function parseSocketData(data: string): { targets: SocketTarget[]; async: boolean; full: boolean } {
  const words = data.trim().split(/\s+/);
  const spec = words.shift() ?? '';
  const targets: SocketTarget[] = [];
  for (const t of spec.split('|')) {
    if (t === '') continue;
    const slash = t.indexOf('/');
    const hp = slash < 0 ? t : t.slice(0, slash);
    const path = slash < 0 ? undefined : t.slice(slash + 1);
    const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(hp);
    if (!m || m[1] === '') continue;
    targets.push({ host: m[1], port: m[2] ? Number(m[2]) : DEFAULT_OUTBOUND_PORT, path });
  }
  return { targets, async: words.includes('async'), full: words.includes('full') };
}

/**
 * The dialplan application `socket`: FreeSWITCH connects out to the controlling program
 * (targets tried in order), runs a pre-authenticated ESL session bound to the channel, parks
 * the channel in async mode once `connect` arrived, and when the socket ends either resumes the
 * dialplan (`resume` / socket_resume=true) or hangs the call up.
 */
export class OutboundSocketApp {
  private readonly bySession = new Map<string, Set<EslConnection>>();

  constructor(private readonly host: EslHost) {}

  /** The application handler for FsCore.registerApp('socket', ...). */
  readonly handler = async (session: Session, data: string): Promise<void> => {
    const { targets, async, full } = parseSocketData(data);
    const log = this.host.logger.child({ uuid: session.uuid });
    let sock: Socket | undefined;
    for (const t of targets) {
      session.channel.setVar('socket_host', t.host);
      if (t.path !== undefined) session.channel.setVar('socket_path', t.path);
      sock = await tryConnect(t.host, t.port);
      if (sock) break;
    }
    if (!sock) {
      log.warn({ targets }, 'sim freeswitch: Socket Error!');
      return;
    }
    sock.setKeepAlive(true, 30_000);
    const conn = new EslConnection(sock, this.host, { session, async, full });
    let set = this.bySession.get(session.uuid);
    if (!set) { set = new Set(); this.bySession.set(session.uuid, set); }
    set.add(conn);
    void conn.closedSignal.then(() => {
      set?.delete(conn);
      if (set?.size === 0) this.bySession.delete(session.uuid);
    });
    conn.start();
    if (async) {
      const r = await session.orHangup(conn.connectedSignal);
      if (r !== HANGUP && !session.isHungUp && !conn.closedNow) await session.park(true);
    } else {
      await session.orHangup(conn.closedSignal);
    }
    // A transfer ends the socket's control without hanging up (CF_TRANSFER).
    if (!session.isHungUp && !session.resume && !session.pendingTransfer) session.hangup('NORMAL_CLEARING');
  };

  /** The channel was destroyed: its sockets get the linger or disconnect notice. */
  sessionDestroyed(uuid: string): void {
    for (const c of this.bySession.get(uuid) ?? []) c.onSessionDestroyed();
  }

  /** Shutdown: every outbound socket gets the notice and is closed. */
  async closeAll(body: string): Promise<void> {
    const all = [...this.bySession.values()].flatMap((s) => [...s]);
    await Promise.all(all.map((c) => c.disconnect(body)));
  }
}

function tryConnect(host: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => { s.destroy(); resolve(undefined); }, CONNECT_TIMEOUT_MS);
    s.once('connect', () => { clearTimeout(timer); s.on('error', () => {}); resolve(s); });
    s.once('error', () => { clearTimeout(timer); resolve(undefined); });
  });
}
