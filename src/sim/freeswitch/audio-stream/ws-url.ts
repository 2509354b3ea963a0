/** Where the stream connects: the parts of a `ws://` / `wss://` URL the handshake needs. */
export interface WsTarget {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  /** Path and query as given, or "/" when the URL has none. */
  readonly pathAndQuery: string;
}

/**
 * mod_audio_stream's `validate_ws_uri`: scheme `ws://` or `wss://`, host made of `[A-Za-z0-9.-]`
 * only (so no `[ipv6]` literal), optional numeric port, anything after the first `/`.
 * Returns undefined for anything else (the API then answers `-ERR Operation Failed`).
 */
export function parseWsUrl(url: string): WsTarget | undefined {
  let secure: boolean;
  let rest: string;
  if (url.startsWith('ws://')) { secure = false; rest = url.slice(5); }
  else if (url.startsWith('wss://')) { secure = true; rest = url.slice(6); }
  else return undefined;
  if (/[\x00-\x20\x7f]/.test(url)) return undefined;
  const m = /^([A-Za-z0-9.-]+)(?::([0-9]+))?(\/.*)?$/s.exec(rest);
  if (!m) return undefined;
  const port = m[2] !== undefined ? Number(m[2]) : secure ? 443 : 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { secure, host: m[1]!, port, pathAndQuery: m[3] ?? '/' };
}
