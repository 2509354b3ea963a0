import type { ErrorTable } from '../errors.js';

/** Error codes of the configuration loader. Every one of them stops the daemon before it starts. */
export const CONFIG_ERRORS = {
  CONFIG_FILE: {
    meaning: 'The configuration file could not be read (missing, unreadable, or no file or text given).',
    consequence: 'fatal: fsbridge does not start; check-config exits with status 2',
  },
  CONFIG_YAML: {
    meaning: 'The configuration file is not valid YAML (syntax error, duplicate key); the error names the line and column.',
    consequence: 'fatal: fsbridge does not start; check-config exits with status 2',
  },
  CONFIG_INVALID: {
    meaning: 'A configuration value has the wrong type, is out of range, is malformed, or breaks a cross-field rule.',
    consequence: 'fatal: fsbridge does not start; check-config exits with status 2',
  },
  CONFIG_UNKNOWN_KEY: {
    meaning: 'The configuration names a key that fsbridge does not know (often a typo; the error suggests the closest key).',
    consequence: 'fatal: fsbridge does not start; check-config exits with status 2',
  },
  CONFIG_SECRET_MISSING: {
    meaning: 'A required secret is absent, or a secret given as env:NAME or cred:NAME could not be resolved (variable unset or empty, credential file missing or empty).',
    consequence: 'fatal: fsbridge does not start; check-config exits with status 2',
  },
} satisfies ErrorTable;

/** One of the configuration error codes. */
export type ConfigErrorCode = keyof typeof CONFIG_ERRORS;
