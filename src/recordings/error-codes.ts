import type { ErrorTable } from '../errors.js';

export const RECORDING_ERRORS = {
  RECORDING_WRITE_FAILED: { meaning: 'A call\'s recording could not be written: the file could not be created, a write failed (disk full, file system gone) or the disk fell more than 10 s behind.', consequence: 'That recording stops (what was written stays readable; its row says `incomplete`); the call goes on.' },
  RECORDING_MASTER_KEY_WRONG: { meaning: 'recordings.masterKey (or previousMasterKey) does not open a data key stored in the database: another master key wrapped it.', consequence: 'Fatal at start (exit code 1); the message names the data key, its tenant and the fingerprints of the master keys involved.' },
  RECORDING_CORRUPT: { meaning: 'A recording file is not one, or one of its chunks does not authenticate (altered, truncated inside a chunk, or sealed with another key).', consequence: 'GET …/recording answers 500 before sending audio, or cuts the body short at the bad chunk (the connection is closed); logged with the call id.' },
  RECORDING_DELETE_FAILED: { meaning: 'A recording file could not be removed (erasure or retention purge).', consequence: 'Logged with its path; a purge keeps its row and tries again an hour later.' },
} satisfies ErrorTable;
