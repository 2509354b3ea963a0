import type { Store } from '../store/store.js';
import type { WebhookOutboxTable } from '../store/tables.js';

/**
 * The callbacks this node may send now, oldest first: due, and each the oldest pending one of its
 * (call, URL), so that a receiver gets a call's events in order even across retries. Callbacks
 * waiting for a retry do not hold up the others, however many they are.
 */
export async function nextDue(s: Store, nodeId: string, nowMs: number, limit: number): Promise<WebhookOutboxTable[]> {
  return s.db.selectFrom('webhook_outbox as w').selectAll('w')
    .where('w.state', '=', 'pending').where('w.node_id', '=', nodeId).where('w.due_at', '<=', nowMs)
    .where(({ not, exists, selectFrom }) => not(exists(
      selectFrom('webhook_outbox as e').select('e.id')
        .whereRef('e.call_id', '=', 'w.call_id').whereRef('e.url', '=', 'w.url')
        .where('e.state', '=', 'pending').whereRef('e.created_at', '<', 'w.created_at'),
    )))
    .orderBy('w.created_at').orderBy('w.id').limit(limit).execute();
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
