/** Reconnect delay policy: exponential, capped, with "equal jitter" so that many daemons do not reconnect in step. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  initialDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 15_000 };

/**
 * Delay before retry number `attempt` (0-based): `min(max, initial·2^attempt)` scaled into
 * [50 %, 100 %] by `random()` (a value in [0, 1), injected so tests are deterministic).
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number): number {
  const exp = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** Math.min(attempt, 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(exp * (0.5 + 0.5 * r));
}
