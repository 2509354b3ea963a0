import type { EslFrame } from './frame-parser.js';
import { safeUrlDecode } from './url-decode.js';

/** The channel an outbound socket session controls, from FreeSWITCH's reply to `connect`. */
export interface ChannelData {
  /** `Unique-ID` (or `Channel-Unique-ID`) of the channel. */
  uuid: string;
  /** Every header, URL-decoded (FreeSWITCH encodes the connect reply like a plain event). */
  headers: Record<string, string>;
  /** Channel variables: `variable_<name>` headers, keyed by `<name>`. */
  variables: Record<string, string>;
}

/**
 * Parses the outbound `connect` reply: a CHANNEL_DATA header block (no body) whose values are
 * URL-encoded, with `Content-Type: command/reply` near the end (captured on 1.10.12:
 * outbound-socket/*-connect-reply.raw). Returns undefined if it names no channel.
 */
export function channelDataFromFrame(frame: EslFrame): ChannelData | undefined {
  const headers: Record<string, string> = {};
  const variables: Record<string, string> = {};
  for (const [name, raw] of frame.headerList) {
    const value = safeUrlDecode(raw);
    if (!(name in headers)) headers[name] = value;
    if (name.startsWith('variable_')) variables[name.slice(9)] = value;
  }
  const uuid = headers['Unique-ID'] || headers['Channel-Unique-ID'];
  if (!uuid) return undefined;
  return { uuid, headers, variables };
}
