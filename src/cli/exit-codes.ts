/**
 * Process exit codes (sysexits.h where one fits). systemd/fsbridge.service lists 77 and 78 in
 * RestartPreventExitStatus: restarting cannot fix a wrong password or an invalid config.
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  /** check-config: the configuration is invalid (the issue asks for 2 here). */
  CONFIG_INVALID_CHECK: 2,
  USAGE: 64,
  /** FreeSWITCH refused the ESL password, or drachtio-server refused the secret. */
  ESL_AUTH_FAILED: 77,
  /** `run` with an invalid configuration. */
  CONFIG_INVALID: 78,
} as const;
