import { createHash } from 'node:crypto';

/**
 * Deterministic identifiers shown to bots. They are derived from fsbridge's call id so that the
 * same call always gets the same ids (the Twilio-compatible REST API maps a CallSid back to the
 * call, and logs line up), while revealing nothing about the call id itself.
 */

/** 32 lowercase hex characters derived from `seed` (SHA-256 prefix). */
export function hex32(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

/** Twilio-style CallSid for a call: "CA" + 32 hex. */
export function twilioCallSid(callId: string): string {
  return 'CA' + hex32('fsbridge-call:' + callId);
}

/**
 * Twilio-style StreamSid for a call's bot stream: "MZ" + 32 hex. `attempt` distinguishes a
 * reconnect (attempt 1, 2, ...) from the first stream (0) of the same call.
 */
export function twilioStreamSid(callId: string, attempt = 0): string {
  return 'MZ' + hex32(`fsbridge-stream:${callId}:${attempt}`);
}

/** Exotel-style call sid: 32 hex (Exotel's own call sids are 32 hex characters). */
export function exotelCallSid(callId: string): string {
  return hex32('fsbridge-call:' + callId);
}

/** Exotel-style stream sid: 32 hex, distinct per attempt like {@link twilioStreamSid}. */
export function exotelStreamSid(callId: string, attempt = 0): string {
  return hex32(`fsbridge-stream:${callId}:${attempt}`);
}
