import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { SECRET_CONFIG_PATHS, isSecretPath, secretLogPaths } from '../../../src/config/secrets.js';
import { loadConfig } from '../../../src/config/load.js';
import { EXAMPLE_CREDENTIALS, EXAMPLE_FILE, credentialsDir } from './helpers.js';

t.test('the secret paths are exactly the secret keys of the schema', (t) => {
  t.same([...SECRET_CONFIG_PATHS], [
    'freeswitch.esl.password',
    'drachtio.secret',
    'trunks[*].password',
    'tenants.*.statusCallback.secret',
    'bots.*.headers.*',
    'bots.*.statusCallback.secret',
    'routes[*].statusCallback.secret',
    'api.token',
    'api.twilio.authToken',
    'store.password',
    'recordings.masterKey',
    'recordings.previousMasterKey',
  ]);
  t.ok(Object.isFrozen(SECRET_CONFIG_PATHS));
  t.end();
});

t.test('isSecretPath matches list indexes and map keys', (t) => {
  t.ok(isSecretPath(['trunks', 3, 'password']));
  t.ok(isSecretPath(['bots', 'x', 'headers', 'Authorization']));
  t.ok(isSecretPath(['api', 'token']));
  t.notOk(isSecretPath(['trunks', 'x', 'password']), 'a list index must be a number');
  t.notOk(isSecretPath(['trunks', 0, 'username']));
  t.notOk(isSecretPath(['bots', 'x', 'headers']));
  t.notOk(isSecretPath(['api']));
  t.end();
});

t.test('secretLogPaths censors a logged configuration with pino', (t) => {
  const creds = credentialsDir(EXAMPLE_CREDENTIALS);
  t.teardown(creds.remove);
  const r = loadConfig({ file: EXAMPLE_FILE, env: {}, credentialsDir: creds.dir });
  t.ok(r.ok);
  if (!r.ok) return t.end();
  let out = '';
  const sink = new Writable({ write(chunk, _enc, cb) { out += String(chunk); cb(); } });
  const log = pino({ redact: { paths: secretLogPaths('config'), censor: '[redacted]' } }, sink);
  log.info({ config: r.config }, 'configuration loaded');
  t.match(out, /configuration loaded/);
  t.match(out, /\[redacted\]/);
  t.notMatch(out, /SECRET-/, 'no secret value reaches the log line');
  t.match(out, /0801234567/, 'non-secret values are kept');
  t.end();
});
