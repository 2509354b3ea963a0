import type { CallIdentity, CallRecord, EndedBy } from '../calls/call-record.js';
import { causeFromName } from '../calls/hangup-causes.js';
import type { CallsTable } from './tables.js';

/** A call as the API shows it from the store: the call record, with its state. */
export type StoredCall = Omit<CallRecord, 'endedAt' | 'durationMs' | 'billableMs' | 'cause' | 'causeCode' | 'endedBy'> & {
  state: 'live' | 'ended';
  nodeId: string;
  endedAt: string | null;
  durationMs: number | null;
  billableMs: number | null;
  cause: string | null;
  causeCode: number | null;
  endedBy: EndedBy | null;
};

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));
const iso = (t: number | null): string | null => (t === null ? null : new Date(Number(t)).toISOString());

/** The row of a call just offered. */
export function offeredRow(c: CallIdentity & { offeredAt: string }, nodeId: string): CallsTable {
  return {
    call_id: c.callId, node_id: nodeId, direction: c.direction, bot: c.bot, from_number: c.from, to_number: c.to,
    fs_uuid: c.fsUuid, state: 'live', offered_at: Date.parse(c.offeredAt), answered_at: null, connected_at: null,
    ended_at: null, duration_ms: null, billable_ms: null, cause: null, cause_code: null, ended_by: null,
    sip_status: null, result: null, transfer_target: null, error_code: null, answered_by: null, tenant: c.tenant,
  };
}

/** The row of an ended call (replaces its `live` row, or is the first row of a call refused at once). */
export function endedRow(r: CallRecord, nodeId: string): CallsTable {
  return {
    call_id: r.callId, node_id: nodeId, direction: r.direction, bot: r.bot, from_number: r.from, to_number: r.to,
    fs_uuid: r.fsUuid, state: 'ended', offered_at: Date.parse(r.offeredAt), answered_at: ms(r.answeredAt),
    connected_at: ms(r.connectedAt), ended_at: Date.parse(r.endedAt), duration_ms: r.durationMs, billable_ms: r.billableMs,
    cause: r.cause, cause_code: r.causeCode, ended_by: r.endedBy, sip_status: r.sipStatus ?? null, result: r.result ?? null,
    transfer_target: r.transferTarget ?? null, error_code: r.errorCode ?? null, answered_by: r.answeredBy ?? null, tenant: r.tenant,
  };
}

/** A row as the API shows it (ISO 8601 times; optional record fields only when set). */
export function rowToCall(row: CallsTable): StoredCall {
  const out: StoredCall = {
    callId: row.call_id, state: row.state, nodeId: row.node_id, fsUuid: row.fs_uuid,
    direction: row.direction as CallRecord['direction'], bot: row.bot, from: row.from_number, to: row.to_number, tenant: row.tenant,
    offeredAt: iso(row.offered_at)!, answeredAt: iso(row.answered_at), connectedAt: iso(row.connected_at),
    endedAt: iso(row.ended_at), durationMs: num(row.duration_ms), billableMs: num(row.billable_ms),
    cause: row.cause, causeCode: num(row.cause_code), endedBy: row.ended_by as EndedBy | null,
  };
  if (row.sip_status !== null) out.sipStatus = Number(row.sip_status);
  if (row.result !== null) out.result = row.result;
  if (row.transfer_target !== null) out.transferTarget = row.transfer_target;
  if (row.error_code !== null) out.errorCode = row.error_code;
  if (row.answered_by != null) out.answeredBy = row.answered_by;
  return out;
}

function num(v: number | null): number | null { return v === null ? null : Number(v); }

/** The error code a call left open by a daemon that stopped without ending it is closed with. */
export const ORPHAN_ERROR_CODE = 'CALL_DAEMON_CRASHED';
/** Its cause: the call failed for a reason on fsbridge's side (Q.850 41), never "the caller hung up". */
export const ORPHAN_CAUSE = causeFromName('NORMAL_TEMPORARY_FAILURE');

/**
 * What is written into a call that was still `live` when its node stopped without ending it (a
 * crash, kill -9, power loss). Its end is not known: it is put at the node's last heartbeat
 * (`lastSeenMs`), the last moment the node was known alive, and never before the call's own times.
 */
export function orphanEnd(row: Pick<CallsTable, 'offered_at' | 'answered_at' | 'connected_at'>, lastSeenMs: number | null): Partial<CallsTable> {
  const times = [row.offered_at, row.answered_at, row.connected_at, lastSeenMs].filter((t): t is number => t !== null).map(Number);
  const end = Math.max(...times);
  const offered = Number(row.offered_at);
  return {
    state: 'ended', ended_at: end, duration_ms: end - offered,
    billable_ms: row.answered_at === null ? 0 : end - Number(row.answered_at),
    cause: ORPHAN_CAUSE.name, cause_code: ORPHAN_CAUSE.code, ended_by: 'fsbridge', error_code: ORPHAN_ERROR_CODE,
  };
}
