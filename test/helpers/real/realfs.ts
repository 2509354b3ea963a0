// Where the real FreeSWITCH and drachtio-server are (../shared/realfs beside the clone, installed
// into /opt/realfs by its install.sh), and the one line a test prints when they are absent.
import { realfsHome, realfsMissing } from '../../../bench/lib/realfs.js';

export { realfsHome, realfsPrefix, runRealfsScript } from '../../../bench/lib/realfs.js';

/**
 * false when the real programs can be started, else the reason to skip, as one line that says how
 * to get them. In CI (`CI=true`) absence is a failure, not a skip: .ci/run installs them.
 */
export function realSkipReason(): string | false {
  const home = realfsHome();
  const missing = realfsMissing();
  if (missing.length === 0) return false;
  const why = `real FreeSWITCH/drachtio-server not installed (missing ${missing.join(', ')}): run sudo bash ${home}/install.sh (or set REALFS_HOME / REALFS_PREFIX)`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI must not skip the real-program tests`);
  return why;
}
