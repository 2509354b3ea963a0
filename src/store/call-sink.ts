import type { CallProgress, CallRecord, CallRecordSink, OfferedCall } from '../calls/call-record.js';
import { endedRow, offeredRow } from './call-rows.js';
import type { StoreWriter } from './writer.js';

/**
 * Call records into the store: a `live` row when a call is offered, its answer and connection
 * times as they happen (what a crash record is made of), completed when it ends.
 */
export class StoreCallSink implements CallRecordSink {
  constructor(private readonly writer: StoreWriter, private readonly nodeId: string) {}
  offered(c: OfferedCall): void {
    this.writer.push({ kind: 'call-offered', row: offeredRow(c, this.nodeId) });
  }
  progressed(p: CallProgress): void {
    this.writer.push({
      kind: 'call-progress', callId: p.callId, fsUuid: p.fsUuid,
      answeredAt: p.answeredAt === null ? null : Date.parse(p.answeredAt), connectedAt: p.connectedAt === null ? null : Date.parse(p.connectedAt),
    });
  }
  write(rec: CallRecord): Promise<void> {
    this.writer.push({ kind: 'call-ended', row: endedRow(rec, this.nodeId) });
    return Promise.resolve();
  }
}
