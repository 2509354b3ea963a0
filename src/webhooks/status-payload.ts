import type { CallRecord } from '../calls/call-record.js';
import { twilioCallSid } from '../bots/sids.js';
import { jsonSignature, twilioSignature } from './signature.js';

export type StatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';
export const STATUS_EVENTS: readonly StatusEvent[] = ['initiated', 'ringing', 'answered', 'completed'];

/** What a status callback is made of. */
export interface StatusFacts {
  event: StatusEvent;
  callId: string;
  accountSid: string;
  tenant: string;
  bot: string | null;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  atMs: number;
  /** 0, 1, 2… per call and URL, as Twilio's SequenceNumber. */
  sequence: number;
  /** The record, for `completed`. */
  record?: CallRecord;
}

/** A request ready to send: its body, headers (signature included) and content type. */
export interface StatusRequest { contentType: string; body: string; headers: Record<string, string> }

/**
 * Twilio's CallStatus for an event: `in-progress` once answered; at the end `completed` for an
 * answered call, else what the dial said (`busy`, `no-answer`, `failed`) or `canceled` (the
 * caller gave up before the answer).
 */
export function twilioStatus(f: StatusFacts): string {
  if (f.event === 'answered') return 'in-progress';
  if (f.event !== 'completed') return f.event;
  const r = f.record;
  if (!r || r.answeredAt !== null) return 'completed';
  if (r.result === 'busy' || r.result === 'no-answer' || r.result === 'failed') return r.result;
  if (r.result === 'rejected') return 'failed';
  return r.endedBy === 'caller' || r.endedBy === 'callee' ? 'canceled' : 'failed';
}

/** The request of one status callback, in Twilio's form fields or as JSON. Pure. */
export function statusRequest(f: StatusFacts, format: 'twilio' | 'json', url: string, secret: string): StatusRequest {
  const status = twilioStatus(f);
  if (format === 'json') {
    const body = JSON.stringify({
      event: f.event, status, callId: f.callId, callSid: twilioCallSid(f.callId), tenant: f.tenant, bot: f.bot,
      from: f.from, to: f.to, direction: f.direction, timestamp: new Date(f.atMs).toISOString(), sequence: f.sequence,
      ...(f.record ? { record: f.record } : {}),
    });
    return { contentType: 'application/json', body, headers: { 'X-Fsbridge-Signature': jsonSignature(secret, body) } };
  }
  const params: Record<string, string> = {
    AccountSid: f.accountSid, ApiVersion: '2010-04-01', CallSid: twilioCallSid(f.callId), CallStatus: status,
    CallbackSource: 'call-progress-events', Direction: f.direction === 'inbound' ? 'inbound' : 'outbound-api',
    From: f.from, To: f.to, SequenceNumber: String(f.sequence), Timestamp: new Date(f.atMs).toUTCString(),
  };
  const r = f.record;
  if (r) {
    params.CallDuration = String(Math.ceil(r.billableMs / 1000));
    params.Duration = String(Math.ceil(r.billableMs / 60_000));
    if (r.sipStatus !== undefined) params.SipResponseCode = String(r.sipStatus);
  }
  const body = new URLSearchParams(params).toString();
  return { contentType: 'application/x-www-form-urlencoded', body, headers: { 'X-Twilio-Signature': twilioSignature(secret, url, params) } };
}
