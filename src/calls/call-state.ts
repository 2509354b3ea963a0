/**
 * The call state machine (docs/lifecycle.md):
 *
 *   offered ──► answered ──► connected ──► ending ──► ended
 *      └───────────┴─────────────┴────────────┘ (any live state may go to ending)
 *
 * `offered`: the channel reached fsbridge; `answered`: FreeSWITCH answered it; `connected`: the bot
 * is attached; `ending`: a hang-up is under way (by whoever); `ended`: FreeSWITCH reported the
 * channel gone, the record is written. Pure: no I/O.
 */
export type CallState = 'offered' | 'answered' | 'connected' | 'ending' | 'ended';

const NEXT: Record<CallState, readonly CallState[]> = {
  offered: ['answered', 'ending', 'ended'],
  answered: ['connected', 'ending', 'ended'],
  connected: ['ending', 'ended'],
  ending: ['ended'],
  ended: [],
};

/** Whether `from → to` is a legal transition. */
export function canTransition(from: CallState, to: CallState): boolean {
  return NEXT[from].includes(to);
}

export function isLive(s: CallState): boolean {
  return s !== 'ending' && s !== 'ended';
}
