/**
 * The store's tables as the query builder sees them (snake_case columns; times are ms since the
 * Unix epoch, UTC). The schema itself is built by migrations.ts; keep the two in step.
 */

/** One call: inserted when it is offered (state `live`), completed when it ends (state `ended`). */
export interface CallsTable {
  call_id: string;
  /** The fsbridge node that owns the call (store.nodeId): who closes it after a crash. */
  node_id: string;
  direction: string;
  bot: string | null;
  from_number: string;
  to_number: string;
  fs_uuid: string;
  state: 'live' | 'ended';
  offered_at: number;
  answered_at: number | null;
  connected_at: number | null;
  ended_at: number | null;
  duration_ms: number | null;
  billable_ms: number | null;
  cause: string | null;
  cause_code: number | null;
  ended_by: string | null;
  sip_status: number | null;
  result: string | null;
  transfer_target: string | null;
  error_code: string | null;
}

/** One fsbridge node: when it started and when it was last known alive (its heartbeat). */
export interface NodesTable {
  node_id: string;
  started_at: number;
  seen_at: number;
}

export interface StoreTables {
  calls: CallsTable;
  nodes: NodesTable;
}
