import type { FsEvent } from './event.js';

/** Columns of `show channels` (the core db's channels table), in FreeSWITCH 1.10.12's order. */
export const SHOW_COLUMNS = [
  'uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest',
  'application', 'application_data', 'dialplan', 'context', 'read_codec', 'read_rate', 'read_bit_rate', 'write_codec',
  'write_rate', 'write_bit_rate', 'secure', 'hostname', 'presence_id', 'presence_data', 'accountcode', 'callstate',
  'callee_name', 'callee_num', 'callee_direction', 'call_uuid', 'sent_callee_name', 'sent_callee_num',
  'initial_cid_name', 'initial_cid_num', 'initial_ip_addr', 'initial_dest', 'initial_dialplan', 'initial_context',
] as const;

export type ChannelColumn = (typeof SHOW_COLUMNS)[number];
export type ChannelRow = Record<ChannelColumn, string>;

/** Bound on rows (a row lives from CHANNEL_CREATE to CHANNEL_DESTROY). */
const MAX_ROWS = 100_000;

const CS_NUMBER = { NEW: 0, INIT: 1, ROUTING: 2, EXECUTE: 4, HANGUP: 10, REPORTING: 11, DESTROY: 12 } as const;
const CALLSTATE_DOWN = 0;
const CALLSTATE_HANGUP = 7;

/**
 * The core db's `channels` table, kept from the events the way switch_core_sqldb.c's
 * core_event_handler keeps it (so `show channels` shows what FreeSWITCH shows, e.g. the caller id
 * of a loopback A leg after its CALL_UPDATE, and no call_uuid on a B leg that never fired
 * CHANNEL_ORIGINATE). The initial_* columns hold the values of the first CS_ROUTING (measured on
 * 1.10.12 with the differential test). Written synchronously: the real table lags a moment behind.
 */
export class ChannelsTable {
  private readonly rows = new Map<string, ChannelRow>();

  /** Rows in creation order (FreeSWITCH orders by created_epoch, ties in insertion order). */
  list(): ChannelRow[] {
    return [...this.rows.values()];
  }

  /** Applies one event. */
  apply(ev: FsEvent): void {
    const h = (name: string): string => ev.get(name) ?? '';
    const uuid = h('Unique-ID');
    if (uuid === '') return;
    const name = ev.name;
    if (name === 'CHANNEL_CREATE') {
      if (this.rows.size >= MAX_ROWS) return;
      const row = Object.fromEntries(SHOW_COLUMNS.map((c) => [c, ''])) as ChannelRow;
      Object.assign(row, {
        uuid, direction: h('Call-Direction'), created: h('Event-Date-Local'),
        created_epoch: String(Math.floor(Number(h('Event-Date-Timestamp')) / 1e6) || 0),
        name: h('Channel-Name'), state: h('Channel-State'), callstate: h('Channel-Call-State'),
        dialplan: h('Caller-Dialplan'), context: h('Caller-Context'), hostname: h('FreeSWITCH-Switchname'),
      });
      this.rows.set(uuid, row);
      return;
    }
    const row = this.rows.get(uuid);
    if (!row) return;
    const set = (cols: Partial<ChannelRow>): void => { Object.assign(row, cols); };
    switch (name) {
      case 'CHANNEL_DESTROY':
        this.rows.delete(uuid);
        return;
      case 'CHANNEL_ANSWER':
      case 'CHANNEL_PROGRESS_MEDIA':
      case 'CODEC':
        set({
          read_codec: h('Channel-Read-Codec-Name'), read_rate: h('Channel-Read-Codec-Rate'), read_bit_rate: h('Channel-Read-Codec-Bit-Rate'),
          write_codec: h('Channel-Write-Codec-Name'), write_rate: h('Channel-Write-Codec-Rate'), write_bit_rate: h('Channel-Write-Codec-Bit-Rate'),
        });
        return;
      case 'CHANNEL_HOLD':
      case 'CHANNEL_UNHOLD':
      case 'CHANNEL_EXECUTE':
        set({ application: h('Application'), application_data: h('Application-Data'), presence_id: h('Channel-Presence-ID'), presence_data: h('Channel-Presence-Data') });
        return;
      case 'CHANNEL_ORIGINATE':
        set({ presence_id: h('Channel-Presence-ID'), presence_data: h('Channel-Presence-Data'), call_uuid: h('Channel-Call-UUID') });
        return;
      case 'CALL_UPDATE':
        set({
          callee_name: h('Caller-Callee-ID-Name'), callee_num: h('Caller-Callee-ID-Number'), sent_callee_name: h('Sent-Callee-ID-Name'),
          sent_callee_num: h('Sent-Callee-ID-Number'), callee_direction: h('Direction'), cid_name: h('Caller-Caller-ID-Name'),
          cid_num: h('Caller-Caller-ID-Number'),
        });
        return;
      case 'CHANNEL_CALLSTATE': {
        const n = Number(h('Channel-Call-State-Number'));
        if (n !== CALLSTATE_DOWN && n !== CALLSTATE_HANGUP) set({ callstate: h('Channel-Call-State') });
        return;
      }
      case 'CHANNEL_STATE':
        this.applyState(row, h);
        return;
      default:
    }
  }

  private applyState(row: ChannelRow, h: (name: string) => string): void {
    const n = Number(h('Channel-State-Number'));
    switch (n) {
      case CS_NUMBER.NEW: case CS_NUMBER.INIT: case CS_NUMBER.HANGUP: case CS_NUMBER.REPORTING: case CS_NUMBER.DESTROY:
        return;
      case CS_NUMBER.ROUTING: {
        const at = {
          cid_name: h('Caller-Caller-ID-Name'), cid_num: h('Caller-Caller-ID-Number'), ip_addr: h('Caller-Network-Addr'),
          dest: h('Caller-Destination-Number'), dialplan: h('Caller-Dialplan'), context: h('Caller-Context'),
        };
        Object.assign(row, at, {
          state: h('Channel-State'), callee_name: h('Caller-Callee-ID-Name'), callee_num: h('Caller-Callee-ID-Number'),
          sent_callee_name: h('Sent-Callee-ID-Name'), sent_callee_num: h('Sent-Callee-ID-Number'),
          presence_id: h('Channel-Presence-ID'), presence_data: h('Channel-Presence-Data'),
        });
        if (row.initial_dest === '' && row.initial_context === '') {
          Object.assign(row, {
            initial_cid_name: at.cid_name, initial_cid_num: at.cid_num, initial_ip_addr: at.ip_addr,
            initial_dest: at.dest, initial_dialplan: at.dialplan, initial_context: at.context,
          });
        }
        return;
      }
      default:
        row.state = h('Channel-State');
    }
  }
}
