import { CALL_STATES, CHANNEL_STATES, type CallState, type ChannelState } from './channel-state.js';
import type { EventHeader } from './event.js';

/** The caller profile (switch_caller_profile_t) fields that fsbridge's twin models. */
export interface CallerProfile {
  direction: 'inbound' | 'outbound';
  logicalDirection: 'inbound' | 'outbound';
  username: string;
  dialplan: string;
  callerIdName: string;
  callerIdNumber: string;
  origCallerIdName: string;
  origCallerIdNumber: string;
  calleeIdName: string;
  calleeIdNumber: string;
  networkAddr: string;
  ani: string;
  destinationNumber: string;
  source: string;
  context: string;
  profileCreatedUs: number;
  /** Caller-RDNIS: the destination before a transfer (absent until one). */
  rdnis?: string;
  /** Caller-Transfer-Source, e.g. `<epoch>:<uuid>:bl_xfer:<exten>/<context>/xml` (absent until a transfer). */
  transferSource?: string;
  /** Caller-Profile-Index: 1, one more per transfer (each transfer clones the profile). */
  profileIndex?: number;
}

export type AnswerState = 'ringing' | 'early' | 'answered' | 'hangup';

/**
 * Data of one simulated channel: states, caller profile, ordered variables and timestamps, and
 * the header blocks FreeSWITCH adds to channel events. Behaviour lives in the core.
 */
export class Channel {
  /** Channel-State (the running state). */
  runningState: ChannelState = 'CS_NEW';
  /** Channel-State-Number (the requested state); FreeSWITCH's events show both. */
  state: ChannelState = 'CS_NEW';
  callState: CallState = 'DOWN';
  answerState: AnswerState = 'ringing';
  hitDialplan = false;
  hangupCause: string | undefined;
  readonly vars = new Map<string, string>();
  readonly createdUs: number;
  answeredUs = 0;
  progressMediaUs = 0;
  hangupUs = 0;
  /** Caller-Channel-Transfer-Time: the last transfer (0 = none). */
  transferUs = 0;
  /** The other loopback leg, if any. */
  peer: Channel | undefined;
  /** Set once CHANNEL_DESTROY fired. */
  destroyed = false;

  constructor(
    readonly uuid: string,
    public name: string,
    readonly direction: 'inbound' | 'outbound',
    readonly profile: CallerProfile,
    nowUs: number,
    readonly codec = { name: 'L16', rate: 8000, bitRate: 128000 },
  ) {
    this.createdUs = nowUs;
  }

  /** switch_channel_set_variable: an existing name is removed and appended again (captured order). */
  setVar(name: string, value: string | undefined): void {
    this.vars.delete(name);
    if (value !== undefined && value !== '') this.vars.set(name, value);
  }

  getVar(name: string): string | undefined {
    return this.vars.get(name);
  }

  get answered(): boolean { return this.answeredUs > 0; }
  get mediaUp(): boolean { return (this.answeredUs > 0 || this.progressMediaUs > 0) && this.hangupUs === 0; }

  /** switch_channel_event_set_basic_data. */
  basicHeaders(): EventHeader[] {
    const h: EventHeader[] = [
      ['Channel-State', this.runningState],
      ['Channel-Call-State', this.callState],
      ['Channel-State-Number', String(CHANNEL_STATES.indexOf(this.state))],
      ['Channel-Name', this.name],
      ['Unique-ID', this.uuid],
      ['Call-Direction', this.direction],
      ['Presence-Call-Direction', this.direction],
      ['Channel-HIT-Dialplan', String(this.hitDialplan)],
      ['Channel-Call-UUID', this.vars.get('call_uuid') ?? this.uuid],
      ['Answer-State', this.answerState],
    ];
    if (this.hangupCause !== undefined) h.push(['Hangup-Cause', this.hangupCause]);
    h.push(
      ['Channel-Read-Codec-Name', this.codec.name],
      ['Channel-Read-Codec-Rate', String(this.codec.rate)],
      ['Channel-Read-Codec-Bit-Rate', String(this.codec.bitRate)],
      ['Channel-Write-Codec-Name', this.codec.name],
      ['Channel-Write-Codec-Rate', String(this.codec.rate)],
      ['Channel-Write-Codec-Bit-Rate', String(this.codec.bitRate)],
    );
    return h;
  }

  /** switch_caller_profile_event_set_data with a prefix ("Caller" or "Channel"); empty fields are left out. */
  profileHeaders(prefix: string): EventHeader[] {
    const p = this.profile;
    const h: EventHeader[] = [];
    const add = (k: string, v: string): void => { if (v !== '') h.push([`${prefix}-${k}`, v]); };
    add('Direction', p.direction);
    add('Logical-Direction', p.logicalDirection);
    add('Username', p.username);
    add('Dialplan', p.dialplan);
    add('Caller-ID-Name', p.callerIdName);
    add('Caller-ID-Number', p.callerIdNumber);
    add('Orig-Caller-ID-Name', p.origCallerIdName);
    add('Orig-Caller-ID-Number', p.origCallerIdNumber);
    add('Callee-ID-Name', p.calleeIdName);
    add('Callee-ID-Number', p.calleeIdNumber);
    add('Network-Addr', p.networkAddr);
    add('ANI', p.ani);
    add('Destination-Number', p.destinationNumber);
    add('Unique-ID', this.uuid);
    add('Source', p.source);
    add('Transfer-Source', p.transferSource ?? '');
    add('Context', p.context);
    add('RDNIS', p.rdnis ?? '');
    add('Channel-Name', this.name);
    add('Profile-Index', String(p.profileIndex ?? 1));
    add('Profile-Created-Time', String(p.profileCreatedUs));
    add('Channel-Created-Time', String(this.createdUs));
    add('Channel-Answered-Time', String(this.answeredUs));
    add('Channel-Progress-Time', '0');
    add('Channel-Progress-Media-Time', String(this.progressMediaUs));
    add('Channel-Hangup-Time', String(this.hangupUs));
    add('Channel-Transfer-Time', String(this.transferUs));
    add('Channel-Resurrect-Time', '0');
    add('Channel-Bridged-Time', '0');
    add('Channel-Last-Hold', '0');
    add('Channel-Hold-Accum', '0');
    add('Screen-Bit', 'true');
    add('Privacy-Hide-Name', 'false');
    add('Privacy-Hide-Number', 'false');
    return h;
  }

  /** All channel variables as `variable_<name>` (switch_channel_event_set_extended_data). */
  variableHeaders(): EventHeader[] {
    return [...this.vars].map(([k, v]) => [`variable_${k}`, v] as const);
  }

  /** Basic data + `Caller-*` (+ variables when `extended`), as switch_channel_event_set_data. */
  eventData(extended: boolean): EventHeader[] {
    const h = [...this.basicHeaders(), ...this.profileHeaders('Caller')];
    if (extended) h.push(...this.variableHeaders());
    return h;
  }

  /** The CHANNEL_DATA block of the outbound `connect` reply and `uuid_dump`: Channel-* profile first. */
  channelDataHeaders(profilePrefix: boolean): EventHeader[] {
    const h: EventHeader[] = profilePrefix ? this.profileHeaders('Channel') : [];
    h.push(...this.basicHeaders(), ...this.profileHeaders('Caller'), ...this.variableHeaders());
    return h;
  }

  callStateNumber(): number { return CALL_STATES.indexOf(this.callState); }
}
