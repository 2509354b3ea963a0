import type { ErrorTable } from '../../errors.js';

/** Error codes of the drachtio-server twin (src/sim/drachtio). */
export const SIP_SIM_ERRORS = {
  SIP_SIM_BAD_FRAME: {
    meaning: 'An admin-connection frame had a length prefix that was not 1-5 digits followed by #.',
    consequence: 'the admin connection is closed, as drachtio-server does (an empty prefix, `#…`, stops the reading of that connection instead, also as drachtio-server does)',
  },
  SIP_SIM_AUTH_FAILED: {
    meaning: 'An admin client sent a wrong secret.',
    consequence: 'NO|incorrect secret is sent and the connection is closed',
  },
  SIP_SIM_UNKNOWN_MESSAGE: {
    meaning: 'An admin client sent a message type the server does not know.',
    consequence: 'NO|Unknown message type is sent and the connection is closed',
  },
  SIP_SIM_BAD_SIP_FROM_APP: {
    meaning: 'A sip message from the application could not be parsed or sent.',
    consequence: 'the application gets NOK with the reason',
  },
  SIP_SIM_BAD_SIP_FROM_NETWORK: {
    meaning: 'A datagram or stream segment on the SIP port was not a well-formed SIP message (src/sim/drachtio/sip-sanity.ts).',
    consequence: 'a request with a usable Via is answered 400 (505 for another SIP version), anything else is dropped; a stream connection is closed',
  },
  SIP_SIM_TRANSACTION_TIMEOUT: {
    meaning: 'A client transaction got no final response within 64*T1.',
    consequence: 'the application gets a locally generated 408',
  },
} satisfies ErrorTable;
