import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const unit = new URL('../../systemd/fsbridge.service', import.meta.url).pathname;

t.test('systemd-analyze verify accepts the unit without a warning', async (t) => {
  const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  t.equal(r.error, undefined, 'systemd-analyze is installed (package systemd)');
  t.equal(r.status, 0);
  // verify only warns (exit 0) on unknown values, so any output is a failure.
  t.equal((r.stderr + r.stdout).trim(), '');
});

t.test('the unit has readiness, restart policy, a dedicated user and hardening', async (t) => {
  const text = readFileSync(unit, 'utf8');
  for (const line of [
    'Type=notify', 'NotifyAccess=all', 'Restart=on-failure', 'User=fsbridge', 'StateDirectory=fsbridge',
    'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX', 'RestartPreventExitStatus=77 78',
  ]) t.ok(text.split('\n').includes(line), line);
  t.match(text, /^LoadCredential=/m);
});
