/** Public surface of the Event Socket layer (see docs/esl-client.md). */
export { EslControl, type EslControlOptions, type EslControlEvents } from './control.js';
export { OutboundSocketServer, type OutboundSocketServerOptions, type OutboundSocketServerEvents } from './outbound-server.js';
export { OutboundSession, type OutboundSessionEvents, type ExecuteOptions } from './outbound-session.js';
export type { ChannelData } from './channel-data.js';
export type { EslResult } from './command-result.js';
export { classifyApiBody } from './command-result.js';
export type { AudioStreamMix, BroadcastLeg } from './commands.js';
export { ESL_ERRORS, type EslErrorCode } from './error-codes.js';
export { CONTROL_EVENT_NAMES, CONTROL_CUSTOM_SUBCLASSES, type FsEvent } from './events.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
