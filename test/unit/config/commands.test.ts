import t from 'tap';
import { checkConfig, printConfig } from '../../../src/config/commands.js';
import { DEV_FILE, MINIMAL } from './helpers.js';

const DEV_ENV = { FSBRIDGE_ESL_PASSWORD: 'Zq9-esl', FSBRIDGE_API_TOKEN: 'Zq9-api' };

t.test('check-config: exit 0 and a summary for a valid file', (t) => {
  const r = checkConfig({ file: DEV_FILE, env: DEV_ENV });
  t.equal(r.exitCode, 0);
  t.match(r.output, /^config OK/);
  t.match(r.output, /3 bots/);
  t.notMatch(r.output, /Zq9/);
  t.end();
});

t.test('check-config: exit 2 and every error on its own line', (t) => {
  const r = checkConfig({ text: 'freeswitch: { esl: { port: 0 } }\nlog: { level: loud }\nxyz: 1\n', env: {}, file: 'bad.yaml' });
  t.equal(r.exitCode, 2);
  const lines = r.output.trimEnd().split('\n');
  // header + freeswitch.esl.port + freeswitch.esl.password + log.level + xyz + api.token
  t.equal(lines.length, 6);
  t.match(lines[0], /5 errors in bad\.yaml/);
  t.ok(lines.slice(1).every((l) => /^[a-z][\w.[\]]*: expected /.test(l)), 'one sentence per line, path first');
  t.end();
});

t.test('check-config: a missing file exits 2', (t) => {
  const r = checkConfig({ file: '/nonexistent/fsbridge.yaml', env: {} });
  t.equal(r.exitCode, 2);
  t.equal(r.output.trimEnd().split('\n').length, 2);
  t.end();
});

t.test('print-config: effective config with defaults and redacted secrets', (t) => {
  const r = printConfig({ file: DEV_FILE, env: DEV_ENV });
  t.equal(r.exitCode, 0);
  t.notMatch(r.output, /Zq9/);
  t.match(r.output, /password: "\[redacted\]"/);
  t.match(r.output, /token: "\[redacted\]"/);
  t.match(r.output, /commandTimeoutMs: 5000/, 'defaults are shown');
  t.match(r.output, /advertise: 127\.0\.0\.1:18090/);
  t.end();
});

t.test('print-config: invalid config exits 2 with the errors', (t) => {
  const r = printConfig({ text: `${MINIMAL}log: { level: 3 }\n`, env: {} });
  t.equal(r.exitCode, 2);
  t.match(r.output, /^config invalid: 1 error\n/);
  t.end();
});
