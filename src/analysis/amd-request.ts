/**
 * Answering-machine detection as a request asks for it (`amd` of POST /v1/calls and of a
 * campaign): what to do when a machine answers, the message to leave, and the detector's
 * parameters a request may change. Validation collects every problem, like the other requests.
 */
import { AMD_DEFAULTS, type AmdParams } from './amd.js';
import { WAV_FILE_EXPECTED, WAV_FILE_PATH } from '../calls/sound-file.js';

/**
 * What happens when a machine answers: `connect` the bot once the greeting ended (it is told
 * machine_end_*, to leave its own message), `hangup` at once (machine_start), or play `message`
 * after the greeting's end and hang up. A fax always hangs up; human and unknown connect the bot.
 */
export type AmdOnMachine = 'connect' | 'hangup' | 'message';

export interface AmdRequest {
  onMachine: AmdOnMachine;
  /** onMachine `message`: the WAV fsbridge plays after the beep (or the greeting's end). */
  message?: string;
  params: AmdParams;
}

/** The parameters a request may set, with their bounds (ms, or words). */
const TUNABLE: Record<string, [number, number]> = {
  initialSilenceMs: [500, 10_000],
  greetingMs: [500, 10_000],
  afterGreetingSilenceMs: [200, 5000],
  totalAnalysisMs: [1000, 30_000],
  maxWords: [2, 20],
  machineEndSilenceMs: [300, 10_000],
  machineEndTimeoutMs: [2000, 120_000],
};

/**
 * `amd` of a request: absent or false (none), true (defaults: connect), or an object
 * `{ onMachine, message, <parameter>: n }`. Problems are named `<field>.<key>: expected …`.
 */
export function parseAmdRequest(v: unknown, field = 'amd'): { ok: true; amd?: AmdRequest } | { ok: false; problems: string[] } {
  if (v === undefined || v === false || v === null) return { ok: true };
  if (v === true) return { ok: true, amd: { onMachine: 'connect', params: { ...AMD_DEFAULTS } } };
  if (typeof v !== 'object' || Array.isArray(v)) return { ok: false, problems: [`${field}: expected true or an object`] };
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  const onMachine = o.onMachine ?? 'connect';
  if (onMachine !== 'connect' && onMachine !== 'hangup' && onMachine !== 'message') problems.push(`${field}.onMachine: expected connect, hangup or message`);
  const message = o.message;
  if (message !== undefined && (typeof message !== 'string' || !WAV_FILE_PATH.test(message))) problems.push(`${field}.message: expected ${WAV_FILE_EXPECTED}`);
  if (onMachine === 'message' && message === undefined) problems.push(`${field}.message: expected a sound file, because onMachine is message`);
  const params: AmdParams = { ...AMD_DEFAULTS };
  for (const k of Object.keys(o)) {
    if (k === 'onMachine' || k === 'message') continue;
    const range = Object.prototype.hasOwnProperty.call(TUNABLE, k) ? TUNABLE[k] : undefined;
    if (!range) { problems.push(`${field}.${k}: not a setting (onMachine, message, ${Object.keys(TUNABLE).join(', ')})`); continue; }
    const n = o[k];
    if (!Number.isInteger(n) || (n as number) < range[0] || (n as number) > range[1]) { problems.push(`${field}.${k}: expected an integer from ${range[0]} to ${range[1]}`); continue; }
    params[k as keyof AmdParams] = n as number;
  }
  if (problems.length) return { ok: false, problems };
  return { ok: true, amd: { onMachine: onMachine as AmdOnMachine, ...(typeof message === 'string' ? { message } : {}), params } };
}
