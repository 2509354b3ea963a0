// Where the real FreeSWITCH and drachtio-server are (../shared/realfs beside the clone, installed
// into /opt/realfs by its install.sh), and the one line a test prints when they are absent.
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ROOT } from '../process.js';

/** The realfs folder (scripts + config template): $REALFS_HOME, else ../shared/realfs beside the clone. */
export function realfsHome(): string {
  return process.env.REALFS_HOME ?? resolve(ROOT, '..', 'shared', 'realfs');
}

/** Install prefix of the binaries: $REALFS_PREFIX (another FreeSWITCH/drachtio install laid out the same way), else /opt/realfs. */
export function realfsPrefix(): string {
  return process.env.REALFS_PREFIX ?? '/opt/realfs';
}

/**
 * false when the real programs can be started, else the reason to skip, as one line that says how
 * to get them. In CI (`CI=true`) absence is a failure, not a skip: .ci/run installs them.
 */
export function realSkipReason(): string | false {
  const home = realfsHome();
  const missing: string[] = [];
  if (!existsSync(join(home, 'freeswitch.sh'))) missing.push(`${home}/freeswitch.sh`);
  if (!existsSync(join(realfsPrefix(), 'freeswitch', 'bin', 'freeswitch'))) missing.push(`${realfsPrefix()}/freeswitch/bin/freeswitch`);
  if (!existsSync(join(realfsPrefix(), 'drachtio', 'bin', 'drachtio'))) missing.push(`${realfsPrefix()}/drachtio/bin/drachtio`);
  if (missing.length === 0) return false;
  const why = `real FreeSWITCH/drachtio-server not installed (missing ${missing.join(', ')}): run sudo bash ${home}/install.sh (or set REALFS_HOME / REALFS_PREFIX)`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI must not skip the real-program tests`);
  return why;
}

/** Runs one of realfs's scripts; resolves with stdout, rejects with its stderr on a non-zero exit. */
export function runRealfsScript(script: 'freeswitch.sh' | 'drachtio.sh', args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile('bash', [join(realfsHome(), script), ...args], {
      timeout: timeoutMs, env: { ...process.env, REALFS_PREFIX: realfsPrefix() }, maxBuffer: 4 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} ${args[0]} failed: ${err.message}\n${stderr}`));
      else resolveRun(stdout);
    });
  });
}
