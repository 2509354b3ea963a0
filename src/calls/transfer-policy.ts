/**
 * Whether a bot may transfer its caller to `target` (`bots.<name>.transfer.allow`): some pattern,
 * a regular expression anchored at both ends, matches the whole target. No pattern: nothing is
 * allowed, because on a stock FreeSWITCH the channel's context (e.g. `default`) reaches the
 * gateways, and an open transfer would let a bot dial anywhere. Pure.
 */
export function transferAllowed(patterns: readonly string[], target: string): boolean {
  return patterns.some((p) => new RegExp(`^(?:${p})$`).test(target));
}
