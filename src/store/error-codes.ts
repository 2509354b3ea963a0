import type { ErrorTable } from '../errors.js';

export const STORE_ERRORS = {
  STORE_OPEN_FAILED: { meaning: 'The store (store.url) could not be opened or migrated at start: the SQLite file or its directory is not writable, or PostgreSQL refused or did not answer.', consequence: 'Fatal: fsbridge does not start (exit code 1); the message names the cause.' },
  STORE_SCHEMA_NEWER: { meaning: 'The database holds migrations this fsbridge does not know: a newer version migrated it.', consequence: 'Fatal at start; run the newer version (migrations are never undone automatically).' },
  STORE_UNAVAILABLE: { meaning: 'The database stopped answering while fsbridge ran.', consequence: 'Calls continue; call records are queued in memory (up to store.queueMax) and written when it is back; /readyz shows store "unavailable"; history queries answer 503.' },
  STORE_QUEUE_FULL: { meaning: 'More than store.queueMax writes waited for an unreachable database.', consequence: 'The oldest queued write is dropped and counted in fsbridge_store_dropped_total.' },
  STORE_WRITE_FAILED: { meaning: 'The database answered but refused one write (a constraint, a value it cannot store).', consequence: 'That write is dropped and logged; the writes around it are applied.' },
  STORE_UNFLUSHED: { meaning: 'At shutdown, writes were still queued because the database was unreachable.', consequence: 'They are lost; the calls they belong to stay open in the store and are closed as CALL_DAEMON_CRASHED at the next start.' },
} satisfies ErrorTable;
