import type { Store } from '../store/store.js';
import type { WebhookOutboxTable } from '../store/tables.js';

/**
 * The next callback of each (call, URL) that this node still has to send, oldest first: one at a
 * time per call and URL, so that a receiver gets a call's events in order even across retries.
 */
export async function nextPending(s: Store, nodeId: string, limit: number): Promise<WebhookOutboxTable[]> {
  const rows = await s.db.selectFrom('webhook_outbox').selectAll()
    .where('state', '=', 'pending').where('node_id', '=', nodeId)
    .orderBy('created_at').orderBy('id').limit(limit).execute();
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = `${r.call_id}\n${r.url}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export async function markSent(s: Store, id: string, status: number, atMs: number): Promise<void> {
  await s.db.updateTable('webhook_outbox').set({ state: 'sent', last_status: status, sent_at: atMs, last_error: null })
    .where('id', '=', id).execute();
}

/** A failed attempt: retried at `dueAt`, or given up (`final`). */
export async function markFailed(s: Store, id: string, o: { attempts: number; dueAt: number; status: number | null; error: string; final: boolean }): Promise<void> {
  await s.db.updateTable('webhook_outbox').set({
    state: o.final ? 'failed' : 'pending', attempts: o.attempts, due_at: o.dueAt, last_status: o.status, last_error: o.error.slice(0, 200),
  }).where('id', '=', id).execute();
}
