import { CALL_PAGE_MAX, decodeCursor, encodeCursor, matchesLive, type CallFilter } from './call-filter.js';
import { rowToCall } from './call-rows.js';
import type { Store } from './store.js';

/** A live call as the API shows it (Call.toJSON()). */
export type LiveCallView = Record<string, unknown> & { callId: string; from: string; to: string; bot: string | null; tenant: string; direction: string; offeredAt: string };

export interface CallPage { calls: Record<string, unknown>[]; nextCursor: string | null }

/**
 * What `GET /v1/calls` and `GET /v1/calls/{id}` answer: the store's history (every node's calls,
 * live and ended, newest first, in pages), or this node's live calls from memory (`state=live`).
 */
export class CallHistory {
  constructor(private readonly store: () => Store, private readonly live: () => LiveCallView[]) {}

  /** One page. With `state=live`: all of this node's live calls that match, in one page. */
  async list(f: CallFilter): Promise<CallPage> {
    if (f.state === 'live') return { calls: this.live().filter((c) => matchesLive(c, f)), nextCursor: null };
    const rows = await this.store().listCalls(f);
    const page = rows.slice(0, f.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > f.limit && last ? encodeCursor({ offeredAtMs: Number(last.offered_at), callId: last.call_id }) : null;
    return { calls: page.map(rowToCall), nextCursor };
  }

  /** Every call that matches, page after page (CSV export). */
  async *all(f: CallFilter): AsyncGenerator<Record<string, unknown>> {
    let filter: CallFilter = { ...f, limit: CALL_PAGE_MAX };
    for (;;) {
      const page = await this.list(filter);
      yield* page.calls;
      const after = page.nextCursor === null ? null : decodeCursor(page.nextCursor);
      if (!after) return;
      filter = { ...filter, after };
    }
  }

  /** A live call of this node as it is now, else the store's record; undefined when neither knows it. */
  async get(callId: string): Promise<Record<string, unknown> | undefined> {
    const live = this.live().find((c) => c.callId === callId);
    if (live) return live;
    const row = await this.store().getCall(callId);
    return row && rowToCall(row);
  }
}
