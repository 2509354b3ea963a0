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
  /** Answering-machine detection's result (Twilio's AnsweredBy values); null: not detected. */
  answered_by?: string | null;
  /** The tenant of the call's bot (or trunk); `default` before tenants existed. */
  tenant: string;
}

/** One fsbridge node: when it started and when it was last known alive (its heartbeat). */
export interface NodesTable {
  node_id: string;
  started_at: number;
  seen_at: number;
  /** When another node took it for dead (cluster) and took its work over; null while it runs. */
  down_at?: number | null;
  taken_by?: string | null;
}

/** A tenant created through the API (tenants in the configuration are not stored). */
export interface TenantsTable {
  name: string;
  max_concurrent: number | null;
  calls_per_day: number | null;
  created_at: number;
}

/** An API key: only its SHA-256 is kept (tenants/api-key.ts). */
export interface ApiKeysTable {
  id: string;
  tenant: string;
  role: string;
  name: string | null;
  hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

/** Who did what through the API (mutating requests). No phone numbers. */
export interface AuditLogTable {
  id: string;
  at: number;
  /** The key's id, or `api.token`, or `cli`. */
  key_id: string;
  role: string;
  tenant: string | null;
  /** e.g. `POST /v1/calls`, `DELETE /v1/keys/{id}`. */
  action: string;
  target: string | null;
  status: number;
}

/**
 * A status callback to send (the outbox): written with the call's events, sent and retried by
 * the node that wrote it; its id is the idempotency key the receiver sees.
 */
export interface WebhookOutboxTable {
  id: string;
  node_id: string;
  call_id: string;
  tenant: string;
  event: string;
  url: string;
  content_type: string;
  body: string;
  /** JSON object of the signature headers. */
  headers: string;
  created_at: number;
  due_at: number;
  attempts: number;
  state: 'pending' | 'sent' | 'failed';
  last_status: number | null;
  last_error: string | null;
  sent_at: number | null;
}

/** A tenant's data key for recordings, wrapped by the master key (recordings/data-keys.ts). */
export interface RecordingKeysTable {
  id: string;
  tenant: string;
  /** base64 of iv | sealed key | tag. */
  wrapped: string;
  /** Fingerprint of the master key that wrapped it. */
  master_fp: string;
  created_at: number;
}

/** A call's encrypted recording: a file on the disk of the node that recorded it. */
export interface RecordingsTable {
  call_id: string;
  tenant: string;
  node_id: string;
  path: string;
  key_id: string;
  /**
   * `recording` while the call runs; `complete`, or `incomplete` when cut short (write failure,
   * crash); `erased` when an erasure on another node removed its call: its own node removes the
   * file and the row at its next purge.
   */
  state: 'recording' | 'complete' | 'incomplete' | 'erased';
  started_at: number;
  ended_at: number | null;
  duration_ms: number | null;
  bytes: number | null;
}

/** An outbound campaign: its spec (bot, trunk, windows, pacing, retries, caps) as JSON. */
export interface CampaignsTable {
  id: string;
  tenant: string;
  name: string;
  /** `running`, `paused`, `cancelled`, `completed`. */
  state: string;
  /** JSON of the CampaignSpec (campaigns/campaign-spec.ts). */
  spec: string;
  contacts_total: number;
  created_at: number;
  updated_at: number;
}

/** One person a campaign calls; `seq` is its place in the list (0-based). */
export interface CampaignContactsTable {
  campaign_id: string;
  seq: number;
  /** E.164, or the number as given when it is not a valid one (state `invalid`). */
  number: string;
  /** The contact's IANA zone (given, or from its number); null: the campaign's. */
  time_zone: string | null;
  /** JSON object of strings: the custom parameters the bot receives. */
  vars: string | null;
  /** `pending`, `dialling`, or final: `completed`, `dnc`, `invalid`, `exhausted`, `expired`, `cancelled`. */
  state: string;
  /** The last attempt's outcome (or why it is final). */
  outcome: string | null;
  /** Attempts placed so far. */
  attempts: number;
  /** When it may be dialled next (pending). */
  due_at: number;
  updated_at: number;
  /** The node whose hopper holds it (cluster), until `lease_until` (ms); null: free. */
  lease_node?: string | null;
  lease_until?: number | null;
}

/**
 * One attempt to call a contact: stored before the INVITE is sent (state `dialling`), completed
 * with its outcome; its id is the call's id.
 */
export interface CampaignAttemptsTable {
  call_id: string;
  campaign_id: string;
  seq: number;
  /** 1 for the first attempt. */
  attempt: number;
  tenant: string;
  number: string;
  node_id: string;
  state: 'dialling' | 'done';
  outcome: string | null;
  sip_status: number | null;
  started_at: number;
  ended_at: number | null;
}

/** A number not to be called: of one tenant, or of every tenant (`*`). */
export interface DncTable {
  tenant: string;
  /** E.164. */
  number: string;
  /** `api` (/v1/dnc), `call:<id>` (POST /v1/calls/{id}/dnc) or `bot:<id>` (the call's bot asked). */
  source: string;
  added_at: number;
}

/** A live call holding a slot of the limits shared by a cluster's nodes (store/shared-limits.ts). */
export interface CallSlotsTable {
  call_id: string;
  node_id: string;
  tenant: string;
  /** The trunk of an outbound call (its outbound.maxConcurrent); null otherwise. */
  trunk: string | null;
  /** The campaign of a campaign call (its pacing.maxConcurrent); null otherwise. */
  campaign_id: string | null;
  started_at: number;
}

/** Calls started per scope (`tenant:<name>`) and UTC day (days since the epoch). */
export interface DailyCountsTable {
  scope: string;
  day: number;
  n: number;
}

export interface StoreTables {
  calls: CallsTable;
  nodes: NodesTable;
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  webhook_outbox: WebhookOutboxTable;
  recording_keys: RecordingKeysTable;
  recordings: RecordingsTable;
  campaigns: CampaignsTable;
  campaign_contacts: CampaignContactsTable;
  campaign_attempts: CampaignAttemptsTable;
  dnc: DncTable;
  call_slots: CallSlotsTable;
  daily_counts: DailyCountsTable;
}
