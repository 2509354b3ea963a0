/**
 * The part of drachtio-srf that fsbridge uses, typed as drachtio-srf 5.x behaves at run time.
 *
 * drachtio-srf ships types (lib/@types/index.d.ts). Its message types are used as they are; the
 * rest is declared here because the shipped declarations differ from what srf does (read in
 * srf.js, dialog.js, request.js, drachtio-agent.js):
 * - `createB2BUA`'s `cbRequest` is called `(err, req)`, and `cbProvisional` gets a SIP response
 *   (the shipped types say `(req)` and the DOM's `Response`);
 * - `Request#cancel` takes optional options and callback; `Dialog#destroy` without a callback
 *   returns a Promise; `Response#send(status, reason)` is valid; `get()` of an absent header
 *   returns undefined;
 * - the `connect` event carries drachtio-server's version, and a lost connection emits `close`
 *   (neither is declared);
 * - `connect()` takes a `reconnect` option.
 * DrachtioLink is the one place where an srf instance is seen as {@link SrfApi}.
 */
import type Srf from 'drachtio-srf';
import type { SrfRequester } from './registration.js';

/** Headers to add to a request or response. */
export type SipHeaders = Record<string, string>;

type MessageBase = Omit<Srf.SipMessage, 'get'> & {
  /** A header's value; undefined when the message has none. */
  get(name: string): string | undefined;
};

/** A SIP request received from drachtio-server, or sent through it (`cbRequest`). */
export type SipRequest = Omit<Srf.SrfRequest, 'cancel' | 'on' | 'get' | 'msg' | 'srf'> & MessageBase & {
  /** CANCELs a request this application sent (throws for a received one). */
  cancel(opts?: { headers?: SipHeaders }, callback?: (err: unknown) => void): void;
  /** The caller CANCELled a received INVITE. */
  on(event: 'cancel', fn: (msg: Srf.SipMessage) => void): unknown;
};

/** A response to send (for a received request) or received (provisional, `cbProvisional`). */
export type SipResponse = Omit<Srf.SrfResponse, 'send' | 'get'> & MessageBase & {
  send(status: number, opts?: { headers?: SipHeaders }): void;
  send(status: number, reason: string | undefined, opts?: { headers?: SipHeaders }): void;
};

/** One side of a SIP dialog (an answered call's leg). */
export interface SipDialog {
  /** The dialog ended from the far side (BYE received): `bye` is that request. */
  on(event: 'destroy', fn: (bye: SipRequest | undefined) => void): unknown;
  /** Sends BYE; resolves when it was answered. */
  destroy(opts?: { headers?: SipHeaders }): Promise<unknown>;
}

/** Options of {@link SrfApi.createB2BUA} fsbridge sets. */
export interface B2buaOptions {
  headers?: SipHeaders;
  passFailure?: boolean;
  auth?: { username: string; password: string };
}

/** Callbacks while a B2BUA's outgoing INVITE is in progress. */
export interface B2buaProgress {
  /** The INVITE was sent (or could not be: `err`). */
  cbRequest?: (err: unknown, req: SipRequest) => void;
  cbProvisional?: (res: SipResponse) => void;
}

/** How a failed createB2BUA rejects (srf's SipError): the B leg's final status. */
export interface SipFailure {
  status?: number;
  reason?: string;
}

/** A drachtio-srf instance, as fsbridge uses it. */
export interface SrfApi extends SrfRequester {
  connect(opts: { host: string; port: number; secret: string; reconnect?: { retryMaxDelay?: number } }): void;
  disconnect(): void;
  /** Authenticated (`err` null) or refused. */
  on(event: 'connect', fn: (err: Error | null, hostport: string, serverVersion?: string) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  /** The connection to drachtio-server was lost; srf reconnects by itself. */
  on(event: 'close', fn: () => void): unknown;
  invite(handler: (req: SipRequest, res: SipResponse) => void): void;
  /** Routes received OPTIONS to the handler (drachtio-server answers them itself otherwise). */
  options(handler: (req: SipRequest, res: SipResponse) => void): void;
  createB2BUA(req: SipRequest, res: SipResponse, uri: string, opts: B2buaOptions, progress?: B2buaProgress): Promise<{ uas: SipDialog; uac: SipDialog }>;
}

/** The status and reason of a createB2BUA rejection (undefined status: no SIP answer). */
export function sipFailure(err: unknown): SipFailure {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as { status?: unknown; reason?: unknown };
  return {
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    ...(typeof e.reason === 'string' ? { reason: e.reason } : {}),
  };
}
