/**
 * The SDP subset the fsbridge profile negotiates (RFC 4566 / RFC 3264): one audio stream,
 * G.711 and telephone-event, ptime 20. Pure.
 */
import type { G711Codec } from './g711.js';

/** What the twin reads from a remote offer or answer. */
export interface RemoteAudio {
  /** c= address (session or media level). */
  ip: string;
  port: number;
  /** Payload types of the m=audio line, in the remote's order of preference. */
  payloads: number[];
  /** rtpmap encoding names by payload type (upper-case), static types filled in. */
  names: Map<number, string>;
  ptimeMs: number;
  /** sendrecv / sendonly / recvonly / inactive. */
  direction: string;
}

const STATIC_PT: Readonly<Record<number, string>> = { 0: 'PCMU', 8: 'PCMA', 9: 'G722', 18: 'G729', 3: 'GSM' };

/** Parses the first m=audio of an SDP body; undefined when there is none or it is malformed. */
export function parseSdpAudio(sdp: string): RemoteAudio | undefined {
  const lines = sdp.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  let sessionIp: string | undefined;
  let mediaIp: string | undefined;
  let inAudio = false;
  let seenAudio = false;
  let port = -1;
  let payloads: number[] = [];
  const names = new Map<number, string>();
  let ptimeMs = 20;
  let direction = 'sendrecv';
  for (const l of lines) {
    if (l.startsWith('m=')) {
      if (seenAudio) { inAudio = false; continue; }
      const m = /^m=audio (\d+)(?:\/\d+)? RTP\/S?AVPF? ?([\d ]*)$/.exec(l);
      if (m) {
        inAudio = true;
        seenAudio = true;
        port = Number(m[1]);
        payloads = m[2].trim() === '' ? [] : m[2].trim().split(/\s+/).map(Number);
      } else {
        inAudio = false;
      }
      continue;
    }
    if (l.startsWith('c=')) {
      const ip = /^c=IN IP[46] (\S+)/.exec(l)?.[1];
      if (!seenAudio) sessionIp = ip;
      else if (inAudio) mediaIp = ip;
      continue;
    }
    if (!inAudio) continue;
    const rtpmap = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(l);
    if (rtpmap) { names.set(Number(rtpmap[1]), rtpmap[2].toUpperCase()); continue; }
    const pt = /^a=ptime:(\d+)/.exec(l);
    if (pt) { ptimeMs = Number(pt[1]); continue; }
    const dir = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(l);
    if (dir) direction = dir[1];
  }
  const ip = mediaIp ?? sessionIp;
  if (!seenAudio || ip === undefined || port < 0 || port > 65535 || payloads.some((p) => !Number.isInteger(p))) return undefined;
  for (const p of payloads) if (!names.has(p) && STATIC_PT[p]) names.set(p, STATIC_PT[p]);
  return { ip, port, payloads, names, ptimeMs, direction };
}

/** The negotiated stream: codec and payload types both ways. */
export interface Negotiated {
  codec: G711Codec;
  pt: number;
  /** telephone-event payload type, if the offer had one. */
  dtmfPt: number | undefined;
}

/**
 * Picks the codec: the first payload of the remote's list that the profile supports (PCMU, PCMA)
 * — inbound-codec-negotiation "generous" honours the remote's order. undefined = no common codec.
 */
export function negotiate(remote: RemoteAudio): Negotiated | undefined {
  let chosen: { codec: G711Codec; pt: number } | undefined;
  for (const p of remote.payloads) {
    const n = remote.names.get(p);
    if (n === 'PCMU' || n === 'PCMA') { chosen = { codec: n, pt: p }; break; }
  }
  if (!chosen) return undefined;
  const dtmfPt = remote.payloads.find((p) => remote.names.get(p) === 'TELEPHONE-EVENT');
  return { ...chosen, dtmfPt };
}

/** Origin line data: FreeSWITCH uses an epoch-like session id and version = id + 1. */
export interface SdpOrigin { sessionId: number; version: number; ip: string }

/** FreeSWITCH's answer SDP: one codec, telephone-event when offered, ptime 20, sendrecv. */
export function buildAnswerSdp(o: SdpOrigin, port: number, n: Negotiated): string {
  const pts = [n.pt, ...(n.dtmfPt !== undefined ? [n.dtmfPt] : [])];
  const lines = [
    'v=0',
    `o=FreeSWITCH ${o.sessionId} ${o.version} IN IP4 ${o.ip}`,
    's=FreeSWITCH',
    `c=IN IP4 ${o.ip}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${pts.join(' ')}`,
    `a=rtpmap:${n.pt} ${n.codec}/8000`,
  ];
  if (n.dtmfPt !== undefined) lines.push(`a=rtpmap:${n.dtmfPt} telephone-event/8000`, `a=fmtp:${n.dtmfPt} 0-15`);
  lines.push('a=ptime:20', 'a=sendrecv');
  return lines.join('\r\n') + '\r\n';
}

/** FreeSWITCH's offer (3PCC / late negotiation): PCMU, PCMA, telephone-event 101, ptime 20 (captured shape). */
export function buildOfferSdp(o: SdpOrigin, port: number): string {
  return [
    'v=0',
    `o=FreeSWITCH ${o.sessionId} ${o.version} IN IP4 ${o.ip}`,
    's=FreeSWITCH',
    `c=IN IP4 ${o.ip}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=ptime:20',
  ].join('\r\n') + '\r\n';
}
