import type { ErrorTable } from '../errors.js';

export const API_ERRORS = {
  API_UNAUTHORIZED: { meaning: 'A /v1 request had no bearer token or a wrong one, or a Twilio-compatible request had wrong Basic credentials.', consequence: 'HTTP 401; nothing changes. Checked before any part of the path is decoded.' },
  API_NOT_FOUND: { meaning: 'No route, or no call with that id.', consequence: 'HTTP 404 (Twilio routes: code 20404).' },
  API_BAD_REQUEST: { meaning: 'The request body or parameters were not understood.', consequence: 'HTTP 400 with a JSON error naming the problem.' },
  API_BODY_TOO_LARGE: { meaning: 'A request body was larger than 64 KiB (declared in Content-Length, or counted while reading a chunked body).', consequence: 'HTTP 413 without reading the rest of the body; the connection is closed.' },
  API_BAD_TARGET: { meaning: 'The request target was not a path (`/…`) or an absolute URL, or held a character RFC 3986 does not allow there (`[`, `]`, `{`, `#`, …).', consequence: 'HTTP 400, before authentication; nothing changes.' },
  API_BAD_ESCAPE: { meaning: 'An authenticated request had a path segment with a malformed %-escape (`%ZZ`, a lone `%`) or one that does not decode to UTF-8.', consequence: 'HTTP 400; nothing changes.' },
  API_BAD_HTTP: { meaning: 'Node\'s HTTP parser refused the request: malformed request line or header, or headers over 16 KiB.', consequence: 'HTTP 400 (431 for oversized headers); the connection is closed.' },
  API_REQUEST_TIMEOUT: { meaning: 'A client did not send its request headers within 10 s, or its whole request within 30 s, of starting it (or of connecting).', consequence: 'HTTP 408 unless an answer had begun; the connection is closed and the request is not handled.' },
  API_RECORDING_IN_PROGRESS: { meaning: 'GET /v1/calls/{id}/recording of a call that is still being recorded.', consequence: 'HTTP 409; ask again once the call ended.' },
  API_RECORDING_MISSING: { meaning: 'GET /v1/calls/{id}/recording: the store has the recording but its file is not on this node\'s disk (another node recorded it, or the file was removed).', consequence: 'HTTP 404; ask the node named in the message, or share recordings.dir between nodes.' },
  API_CAMPAIGN_STATE: { meaning: 'POST /v1/campaigns/{id}/pause|resume|cancel of a campaign not in a state that allows it (resume of a running one, cancel of a completed one).', consequence: 'HTTP 409; nothing changes; the message says the campaign\'s state.' },
  API_STORE_UNAVAILABLE: { meaning: 'A request needed the store and could not reach it: call history (GET /v1/calls, /v1/calls/{id}), recordings, tenants, keys, the audit log, an erasure, or checking an API key.', consequence: 'HTTP 503; with the configured api.token, live calls (?state=live) and hang-ups keep working.' },
  API_FORBIDDEN: { meaning: 'An API key\'s role does not allow the request (a viewer placing a call, an operator managing keys).', consequence: 'HTTP 403; nothing changes. A request about another tenant\'s call, key or trunk is 404 instead, so that its existence is not revealed.' },
  API_CONFLICT: { meaning: 'The request would create something that exists (a tenant of that name).', consequence: 'HTTP 409; nothing changes.' },
} satisfies ErrorTable;
