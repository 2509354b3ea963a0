import type { ErrorTable } from '../errors.js';

/** Error codes of the daemon process itself (src/cli/run.ts, src/main.ts). */
export const PROCESS_ERRORS = {
  PROCESS_UNHANDLED_REJECTION: {
    meaning: 'A promise was rejected and no code handled it: a bug in one call\'s code path.',
    consequence: 'Logged at error level with the stack and counted; the daemon and its other calls go on.',
  },
  CONFIG_RELOAD_FAILED: {
    meaning: 'A reload (SIGHUP, `systemctl reload`) read a configuration file that is not valid.',
    consequence: 'Every problem is logged; nothing changes: the daemon goes on with the configuration it had.',
  },
} satisfies ErrorTable;
