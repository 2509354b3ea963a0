import { isRetryable, RETRYABLE, type AttemptOutcome, type RetryableOutcome } from './outcome.js';

/** After an outcome: wait `delaySec`, and stop once the contact had `maxAttempts` attempts in all. */
export interface RetryRule { delaySec: number; maxAttempts: number }
export type RetryRules = Readonly<Record<RetryableOutcome, RetryRule>>;

/** The rules a campaign gets for what it does not say. */
export const DEFAULT_RETRY: RetryRules = {
  'busy': { delaySec: 600, maxAttempts: 3 },
  'no-answer': { delaySec: 1800, maxAttempts: 3 },
  'failed': { delaySec: 300, maxAttempts: 2 },
  'machine': { delaySec: 3600, maxAttempts: 2 },
  'bot-unreachable': { delaySec: 300, maxAttempts: 2 },
};

/** A contact's state after an attempt. */
export type NextStep =
  | { final: true; state: 'completed' | 'invalid' | 'exhausted' }
  | { final: false; delayMs: number };

/**
 * What follows an attempt (pure): final outcomes end the contact (completed, invalid number);
 * a retryable one is retried after its delay while the contact had fewer than its maxAttempts.
 */
export function nextStep(outcome: AttemptOutcome, attemptsSoFar: number, rules: RetryRules): NextStep {
  if (outcome === 'completed') return { final: true, state: 'completed' };
  if (!isRetryable(outcome)) return { final: true, state: 'invalid' };
  const r = rules[outcome];
  if (attemptsSoFar >= r.maxAttempts) return { final: true, state: 'exhausted' };
  return { final: false, delayMs: r.delaySec * 1000 };
}

/** Validates `retry` of a campaign (API JSON): the defaults completed with what it gives. */
export function parseRetryRules(x: unknown): { ok: true; rules: RetryRules } | { ok: false; problems: string[] } {
  if (x === undefined) return { ok: true, rules: DEFAULT_RETRY };
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return { ok: false, problems: ['retry: expected an object of outcome → { delaySec, maxAttempts }'] };
  const problems: string[] = [];
  const rules: Record<string, RetryRule> = { ...DEFAULT_RETRY };
  for (const [k, v] of Object.entries(x)) {
    if (!(RETRYABLE as readonly string[]).includes(k)) { problems.push(`retry.${k}: not a retryable outcome (${RETRYABLE.join(', ')})`); continue; }
    // a rule that is not an object (`busy: 5`) must not pass as "the defaults"
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) { problems.push(`retry.${k}: expected an object { delaySec, maxAttempts }`); continue; }
    const o = (v ?? {}) as Record<string, unknown>;
    const delaySec = o.delaySec ?? rules[k].delaySec;
    const maxAttempts = o.maxAttempts ?? rules[k].maxAttempts;
    if (!Number.isInteger(delaySec) || (delaySec as number) < 0 || (delaySec as number) > 30 * 86_400) problems.push(`retry.${k}.delaySec: expected an integer from 0 to 2592000`);
    if (!Number.isInteger(maxAttempts) || (maxAttempts as number) < 1 || (maxAttempts as number) > 20) problems.push(`retry.${k}.maxAttempts: expected an integer from 1 to 20`);
    rules[k] = { delaySec: delaySec as number, maxAttempts: maxAttempts as number };
  }
  return problems.length ? { ok: false, problems } : { ok: true, rules: rules as RetryRules };
}
