import { Q850_CAUSES, type Q850CauseName } from '../q850.js';

/** Q.850 hang-up causes as FreeSWITCH names and numbers them (the one table: src/q850.ts). */
export const HANGUP_CAUSES = Q850_CAUSES;

export type HangupCauseName = Q850CauseName;

/** A hang-up cause as recorded: FreeSWITCH name and number. */
export interface HangupCause {
  name: string;
  code: number;
}

/**
 * Resolves a cause name as FreeSWITCH reports it (e.g. `Hangup-Cause: NORMAL_CLEARING`). An
 * unknown name keeps its text with code 0 (UNSPECIFIED), so nothing FreeSWITCH says is lost.
 */
export function causeFromName(name: string | undefined): HangupCause {
  const n = (name ?? '').trim().toUpperCase();
  if (n in HANGUP_CAUSES) return { name: n, code: HANGUP_CAUSES[n as HangupCauseName] };
  return { name: n || 'UNSPECIFIED', code: 0 };
}

/** Resolves a cause number (e.g. `variable_hangup_cause_q850`). */
export function causeFromCode(code: number): HangupCause {
  if (code === 0) return { name: 'UNSPECIFIED', code };
  for (const [name, c] of Object.entries(HANGUP_CAUSES)) if (c === code) return { name, code };
  return { name: 'UNSPECIFIED', code };
}

export function cause(name: HangupCauseName): HangupCause {
  return { name, code: HANGUP_CAUSES[name] };
}
