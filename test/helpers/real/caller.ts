// A caller on the real FreeSWITCH: a loopback call into the dialplan (the B leg runs the extension,
// which sockets to fsbridge), whose A leg plays a recording as the caller's voice and records both
// directions (RECORD_STEREO=true).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { RealFreeswitch } from './freeswitch.js';

export interface LoopbackCallOptions {
  /** The extension dialled in context `default` (e.g. `echo-twilio`). */
  destination: string;
  /** WAV played as the caller's voice (none: silence). */
  sayFile?: string;
  /** Where the stereo recording goes (none: not recorded). */
  recordFile?: string;
  /** The caller hangs up this long after the recording ended (default: never; hang up yourself). */
  hangupAfterMs?: number;
  /** Extra channel variables of the originate (name=value). */
  vars?: string[];
  callerNumber?: string;
}

/** One placed call: the A leg (the caller's side) by uuid. */
export class LoopbackCall {
  constructor(readonly fs: RealFreeswitch, readonly aLeg: string, readonly recordFile?: string) {}

  /** The caller hangs up. */
  async hangup(cause = 'NORMAL_CLEARING'): Promise<void> {
    await this.fs.api(`uuid_kill ${this.aLeg} ${cause}`);
  }

  /** True while FreeSWITCH still has the caller's channel. */
  async exists(): Promise<boolean> {
    return (await this.fs.api(`uuid_exists ${this.aLeg}`)).trim() === 'true';
  }

  /** The caller presses keys (RFC 2833 on the loopback pair: the B leg, i.e. fsbridge's channel, receives them). */
  async sendDtmf(digits: string): Promise<void> {
    await this.fs.api(`uuid_send_dtmf ${this.aLeg} ${digits}`);
  }

  /** Resolves when the caller's channel is gone and its recording is written (polls, bounded). */
  async gone(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (await this.exists()) {
      if (Date.now() > until) throw new Error(`caller ${this.aLeg} still up after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // record_session closes the file when the channel is destroyed
    for (let i = 0; i < 50 && this.recordFile && !existsSync(this.recordFile); i++) await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `originate loopback/<destination>/default` with an inline dialplan on the A leg:
 * record_session (stereo), then playback of the caller's voice, then (optionally) a pause and
 * hangup. Resolves once FreeSWITCH answered the B leg (fsbridge answered the call).
 */
export async function placeLoopbackCall(fs: RealFreeswitch, o: LoopbackCallOptions): Promise<LoopbackCall> {
  const uuid = randomUUID();
  const apps: string[] = [];
  if (o.recordFile) apps.push(`record_session:${o.recordFile}`);
  apps.push(o.sayFile ? `playback:${o.sayFile}` : 'sleep:100');
  if (o.hangupAfterMs !== undefined) apps.push(`sleep:${o.hangupAfterMs}`, 'hangup');
  else apps.push('park');
  const vars = [
    `origination_uuid=${uuid}`, 'RECORD_STEREO=true', `origination_caller_id_number=${o.callerNumber ?? '4930123456'}`,
    ...(o.vars ?? []),
  ];
  const reply = await fs.api(`originate {${vars.join(',')}}loopback/${o.destination}/default '${apps.join(',')}' inline`, 30_000);
  if (!reply.startsWith('+OK')) throw new Error(`originate failed: ${reply.trim()}`);
  return new LoopbackCall(fs, uuid, o.recordFile);
}
