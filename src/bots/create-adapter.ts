import type { BotAdapter, BotProtocol } from './adapter.js';
import { ExotelAdapter, type ExotelAdapterOptions } from './exotel/exotel-adapter.js';
import { NativeAdapter, type NativeAdapterOptions } from './native/native-adapter.js';
import { TwilioAdapter, type TwilioAdapterOptions } from './twilio/twilio-adapter.js';

/** Options for any adapter; each protocol reads the keys it knows. */
export type AnyAdapterOptions = TwilioAdapterOptions & ExotelAdapterOptions & NativeAdapterOptions;

/**
 * A fresh adapter for one call (or one reconnect attempt) of `protocol`. Throws RangeError for
 * out-of-range options (config validation should have caught them first).
 */
export function createBotAdapter(protocol: BotProtocol, opts: AnyAdapterOptions = {}): BotAdapter {
  switch (protocol) {
    case 'twilio':
      return new TwilioAdapter({ maxMessageBytes: opts.maxMessageBytes, attempt: opts.attempt });
    case 'exotel':
      return new ExotelAdapter(opts);
    case 'native':
      return new NativeAdapter(opts);
  }
}
