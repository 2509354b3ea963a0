import type { ErrorTable } from '../errors.js';

export const API_ERRORS = {
  API_UNAUTHORIZED: { meaning: 'A /v1 request had no bearer token or a wrong one, or a Twilio-compatible request had wrong Basic credentials.', consequence: 'HTTP 401; nothing changes.' },
  API_NOT_FOUND: { meaning: 'No route, or no call with that id.', consequence: 'HTTP 404 (Twilio routes: code 20404).' },
  API_BAD_REQUEST: { meaning: 'The request body or parameters were not understood.', consequence: 'HTTP 400 with a JSON error naming the problem.' },
  API_BODY_TOO_LARGE: { meaning: 'A request body was larger than 64 KiB.', consequence: 'HTTP 413; the connection is closed.' },
} satisfies ErrorTable;
