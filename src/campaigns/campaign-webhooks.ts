import { randomUUID } from 'node:crypto';
import type { WebhookOutboxTable } from '../store/tables.js';
import { jsonSignature } from '../webhooks/signature.js';
import type { CampaignEvent } from './dialer.js';

/** Where a campaign's events go: a tenant's or bot's statusCallback whose events include `campaign`. */
export interface CampaignHookTarget { url: string; secret: string }

/**
 * The outbox row of a campaign event for one target (pure but for its id): a JSON body signed
 * with X-Fsbridge-Signature whatever the target's format (Twilio has no such event). Its
 * `call_id` is the campaign's id.
 */
export function campaignHookRow(e: CampaignEvent, t: CampaignHookTarget, nodeId: string, createdAt: number): WebhookOutboxTable {
  const body = JSON.stringify({
    event: e.event, campaignId: e.campaignId, tenant: e.tenant, timestamp: new Date(e.atMs).toISOString(),
    ...(e.contact ? { contact: e.contact } : {}),
  });
  return {
    id: randomUUID(), node_id: nodeId, call_id: e.campaignId, tenant: e.tenant, event: e.event, url: t.url,
    content_type: 'application/json', body, headers: JSON.stringify({ 'X-Fsbridge-Signature': jsonSignature(t.secret, body) }),
    created_at: createdAt, due_at: e.atMs, attempts: 0, state: 'pending', last_status: null, last_error: null, sent_at: null,
  };
}
