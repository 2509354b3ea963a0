/** DTMF durations of FreeSWITCH's core (switch_core.c defaults), in samples at 8 kHz. */
export const DTMF_DEFAULT_SAMPLES = 2000;
export const DTMF_MIN_SAMPLES = 400;
export const DTMF_MAX_SAMPLES = 192000;

/** What `switch_core_session_send_dtmf_string` sends for one dtmf string. */
export interface DtmfPlan {
  /** Digits to send, in order, with their duration in samples (`w`/`W` pauses are left out). */
  readonly digits: ReadonlyArray<{ readonly digit: string; readonly durationSamples: number }>;
  /** The `last_dtmf_duration` variable (ms: every digit plus a 250 ms pause), undefined when nothing was sent. */
  readonly lastDurationMs: number | undefined;
}

const IS_DTMF = /^[0-9A-Da-d*#wW]$/;

/**
 * Parses `uuid_send_dtmf`'s digits as switch_core_session_send_dtmf_string does: groups split on
 * `+`, each `digits[@ms]`; a duration of more than 50 ms replaces the default (2000 samples),
 * then it is clamped to 400..192000 samples. Other characters are skipped.
 */
export function planDtmf(dtmfString: string): DtmfPlan {
  const digits: Array<{ digit: string; durationSamples: number }> = [];
  let totalSamples = 0;
  for (const group of dtmfString.split('+')) {
    if (group === '') continue;
    const at = group.indexOf('@');
    let duration = DTMF_DEFAULT_SAMPLES;
    if (at >= 0) {
      const ms = Number.parseInt(group.slice(at + 1), 10);
      if (Number.isInteger(ms) && ms > DTMF_MIN_SAMPLES / 8) duration = ms * 8;
    }
    duration = Math.min(DTMF_MAX_SAMPLES, Math.max(DTMF_MIN_SAMPLES, duration));
    for (const c of at >= 0 ? group.slice(0, at) : group) {
      if (!IS_DTMF.test(c)) continue;
      totalSamples += duration + 2000;
      if (c === 'w' || c === 'W') continue;
      digits.push({ digit: c.toUpperCase(), durationSamples: duration });
    }
  }
  return { digits, lastDurationMs: totalSamples > 0 ? Math.floor(totalSamples / 8) : undefined };
}
