/**
 * The real FreeSWITCH 1.10.12 and drachtio-server of ../shared/realfs (installed into /opt/realfs
 * by its install.sh), as the real-program tests and bench/real-fs.ts use them: where they are,
 * running their scripts, and laying fsbridge's FreeSWITCH files into an instance the way
 * docs/freeswitch.md tells a user to.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../src/repo-root.js';

/** The realfs folder (scripts + config template): $REALFS_HOME, else ../shared/realfs beside the checkout. */
export function realfsHome(): string {
  return process.env.REALFS_HOME ?? resolve(repoRoot(), '..', 'shared', 'realfs');
}

/** Install prefix of the binaries: $REALFS_PREFIX (another install laid out the same way), else /opt/realfs. */
export function realfsPrefix(): string {
  return process.env.REALFS_PREFIX ?? '/opt/realfs';
}

/** The files the real programs need that are missing (empty when they can be started). */
export function realfsMissing(): string[] {
  const home = realfsHome();
  const missing: string[] = [];
  if (!existsSync(join(home, 'freeswitch.sh'))) missing.push(`${home}/freeswitch.sh`);
  if (!existsSync(join(realfsPrefix(), 'freeswitch', 'bin', 'freeswitch'))) missing.push(`${realfsPrefix()}/freeswitch/bin/freeswitch`);
  if (!existsSync(join(realfsPrefix(), 'drachtio', 'bin', 'drachtio'))) missing.push(`${realfsPrefix()}/drachtio/bin/drachtio`);
  return missing;
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

/**
 * Lays fsbridge's FreeSWITCH files into an instance's conf/ following docs/freeswitch.md
 * ("Install the files fsbridge ships", steps 1–5). The instance's template is a minimal stock
 * layout (conf/vars.xml including vars/extra/*.xml, autoload_configs/, sip_profiles/*.xml,
 * dialplan/*.xml with dialplan/default/*.xml inside context default).
 */
export function layFsbridgeConf(conf: string): void {
  const src = (p: string) => join(repoRoot(), p);
  // 1. vars.fsbridge.xml: "include it from vars.xml" (the template's vars.xml includes vars/extra/*.xml).
  mkdirSync(join(conf, 'vars', 'extra'), { recursive: true });
  copyFileSync(src('freeswitch-conf/vars.fsbridge.xml'), join(conf, 'vars', 'extra', 'vars.fsbridge.xml'));
  // 2. event_socket.conf.xml replaces autoload_configs/event_socket.conf.xml.
  copyFileSync(src('freeswitch-conf/autoload_configs/event_socket.conf.xml'), join(conf, 'autoload_configs', 'event_socket.conf.xml'));
  // 3. modules.conf.fragment.xml: its <load> lines merged into autoload_configs/modules.conf.xml.
  const modulesPath = join(conf, 'autoload_configs', 'modules.conf.xml');
  let modules = readFileSync(modulesPath, 'utf8');
  const wanted = [...readFileSync(src('freeswitch-conf/autoload_configs/modules.conf.fragment.xml'), 'utf8').matchAll(/<load module="([^"]+)"\/>/g)].map((m) => m[1]);
  const missing = wanted.filter((m) => !modules.includes(`<load module="${m}"/>`));
  if (missing.length) modules = modules.replace('</modules>', `${missing.map((m) => `    <load module="${m}"/>`).join('\n')}\n  </modules>`);
  writeFileSync(modulesPath, modules);
  // 4. sip_profiles/fsbridge.xml.
  copyFileSync(src('freeswitch-conf/sip_profiles/fsbridge.xml'), join(conf, 'sip_profiles', 'fsbridge.xml'));
  // 5. dialplans/fsbridge.xml → dialplan/fsbridge.xml; dialplans/default/*.xml → dialplan/default/.
  copyFileSync(src('dialplans/fsbridge.xml'), join(conf, 'dialplan', 'fsbridge.xml'));
  mkdirSync(join(conf, 'dialplan', 'default'), { recursive: true });
  copyFileSync(src('dialplans/default/fsbridge-bots.xml'), join(conf, 'dialplan', 'default', 'fsbridge-bots.xml'));
}
