import type { Kysely, Migration } from 'kysely';

/**
 * The store's schema, one migration per change, for SQLite and PostgreSQL alike (only types both
 * understand: text, integer, bigint). Migrations run at start, in name order, each once (kysely's
 * Migrator keeps the list in `kysely_migration`). They only add: a migration that drops or
 * rewrites data is not written here without a flag the operator has to set.
 */
// The migrations are written against the database as it was when they were written, not against
// today's tables (StoreTables), hence the untyped Kysely.
type AnyDb = Kysely<any>;

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-calls-and-nodes': {
    async up(db: AnyDb) {
      await db.schema.createTable('calls')
        .addColumn('call_id', 'text', (c) => c.primaryKey())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('bot', 'text')
        .addColumn('from_number', 'text', (c) => c.notNull())
        .addColumn('to_number', 'text', (c) => c.notNull())
        .addColumn('fs_uuid', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('offered_at', 'bigint', (c) => c.notNull())
        .addColumn('answered_at', 'bigint')
        .addColumn('connected_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('duration_ms', 'bigint')
        .addColumn('billable_ms', 'bigint')
        .addColumn('cause', 'text')
        .addColumn('cause_code', 'integer')
        .addColumn('ended_by', 'text')
        .addColumn('sip_status', 'integer')
        .addColumn('result', 'text')
        .addColumn('transfer_target', 'text')
        .addColumn('error_code', 'text')
        .execute();
      // history pages are newest first by (offered_at, call_id); crash recovery looks up live calls by node
      await db.schema.createIndex('calls_offered').on('calls').columns(['offered_at', 'call_id']).execute();
      await db.schema.createIndex('calls_live').on('calls').columns(['state', 'node_id']).execute();
      await db.schema.createIndex('calls_from').on('calls').column('from_number').execute();
      await db.schema.createIndex('calls_to').on('calls').column('to_number').execute();
      await db.schema.createTable('nodes')
        .addColumn('node_id', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('seen_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0002-tenants-keys-audit': {
    async up(db: AnyDb) {
      await db.schema.alterTable('calls').addColumn('tenant', 'text', (c) => c.notNull().defaultTo('default')).execute();
      await db.schema.createIndex('calls_tenant').on('calls').columns(['tenant', 'offered_at']).execute();
      await db.schema.createTable('tenants')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('max_concurrent', 'integer')
        .addColumn('calls_per_day', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('status', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_at').on('audit_log').columns(['at', 'id']).execute();
    },
  },
  '0003-webhook-outbox': {
    async up(db: AnyDb) {
      await db.schema.createTable('webhook_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('call_id', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('sent_at', 'bigint')
        .execute();
      await db.schema.createIndex('webhook_pending').on('webhook_outbox').columns(['state', 'node_id', 'created_at']).execute();
      await db.schema.createIndex('webhook_call').on('webhook_outbox').column('call_id').execute();
    },
  },
  '0004-recordings': {
    async up(db: AnyDb) {
      await db.schema.createTable('recording_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('wrapped', 'text', (c) => c.notNull())
        .addColumn('master_fp', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('recordings')
        .addColumn('call_id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .addColumn('duration_ms', 'bigint')
        .addColumn('bytes', 'bigint')
        .execute();
      // the retention purge looks up a node's oldest recordings of a tenant
      await db.schema.createIndex('recordings_age').on('recordings').columns(['node_id', 'tenant', 'started_at']).execute();
    },
  },
  '0005-campaigns': {
    async up(db: AnyDb) {
      await db.schema.createTable('campaigns')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('contacts_total', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('campaigns_tenant').on('campaigns').columns(['tenant', 'created_at']).execute();
      await db.schema.createTable('campaign_contacts')
        .addColumn('campaign_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('number', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text')
        .addColumn('vars', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('campaign_contacts_pk', ['campaign_id', 'seq'])
        .execute();
      // the dialer's hopper: a campaign's due contacts, oldest first (never a scan of the list)
      await db.schema.createIndex('campaign_contacts_due').on('campaign_contacts').columns(['campaign_id', 'state', 'due_at', 'seq']).execute();
      await db.schema.createTable('campaign_attempts')
        .addColumn('call_id', 'text', (c) => c.primaryKey())
        .addColumn('campaign_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('number', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('sip_status', 'integer')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .execute();
      await db.schema.createIndex('campaign_attempts_contact').on('campaign_attempts').columns(['campaign_id', 'seq', 'attempt']).execute();
      // per-number daily caps and crash recovery
      await db.schema.createIndex('campaign_attempts_number').on('campaign_attempts').columns(['tenant', 'number', 'started_at']).execute();
      await db.schema.createIndex('campaign_attempts_open').on('campaign_attempts').columns(['state', 'node_id']).execute();
      await db.schema.createIndex('campaign_attempts_started').on('campaign_attempts').columns(['campaign_id', 'started_at']).execute();
      await db.schema.createTable('dnc')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('number', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('dnc_pk', ['tenant', 'number'])
        .execute();
      await db.schema.createIndex('dnc_number').on('dnc').column('number').execute();
    },
  },
  '0006-answered-by': {
    async up(db: AnyDb) {
      // who answered an outbound call, by answering-machine detection (Twilio's AnsweredBy values)
      await db.schema.alterTable('calls').addColumn('answered_by', 'text').execute();
    },
  },
  '0007-cluster': {
    async up(db: AnyDb) {
      // one row per call holding a slot of its tenant (and trunk, campaign): the limits shared by
      // the nodes of a cluster are counted here (store/shared-limits.ts)
      await db.schema.createTable('call_slots')
        .addColumn('call_id', 'text', (c) => c.primaryKey())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('trunk', 'text')
        .addColumn('campaign_id', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('call_slots_tenant').on('call_slots').column('tenant').execute();
      await db.schema.createIndex('call_slots_trunk').on('call_slots').column('trunk').execute();
      await db.schema.createIndex('call_slots_campaign').on('call_slots').column('campaign_id').execute();
      await db.schema.createIndex('call_slots_node').on('call_slots').column('node_id').execute();
      // calls started per scope (`tenant:<name>`) and UTC day: the daily caps shared by the nodes
      await db.schema.createTable('daily_counts')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('day', 'integer', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('daily_counts_pk', ['scope', 'day'])
        .execute();
      // a contact a node took into its hopper is leased to it until lease_until (ms)
      await db.schema.alterTable('campaign_contacts').addColumn('lease_node', 'text').execute();
      await db.schema.alterTable('campaign_contacts').addColumn('lease_until', 'bigint').execute();
      await db.schema.createIndex('campaign_contacts_lease').on('campaign_contacts').column('lease_node').execute();
      // a node taken for dead: when, and by which node (store.ts takeOverNode)
      await db.schema.alterTable('nodes').addColumn('down_at', 'bigint').execute();
      await db.schema.alterTable('nodes').addColumn('taken_by', 'text').execute();
    },
  },
};
