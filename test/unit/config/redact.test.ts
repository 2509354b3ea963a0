import t from 'tap';
import fc from 'fast-check';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config/load.js';
import { redactConfig } from '../../../src/config/redact.js';
import { checkConfig, printConfig } from '../../../src/config/commands.js';
import { EXAMPLE_CREDENTIALS, EXAMPLE_FILE, credentialsDir } from './helpers.js';

/** A config with every secret key set, each from the given values (literal, env or cred). */
function everySecret(v: { esl: string; drachtio: string; trunk: string; header: string; api: string; twilio: string }): string {
  return `freeswitch: { esl: { password: ${JSON.stringify(v.esl)} } }
drachtio: { secret: env:DRACHTIO }
trunks: [ { name: t, registrar: "sip:a.example", username: u, password: ${JSON.stringify(v.trunk)} } ]
bots: { b: { url: "ws://h/", protocol: native, headers: { Authorization: cred:hdr, X-Other: ${JSON.stringify(v.header)} } } }
api: { token: ${JSON.stringify(v.api)}, twilio: { accountSid: AC1, authToken: ${JSON.stringify(v.twilio)} } }
`;
}

t.test('redactConfig replaces every secret and leaves the rest', (t) => {
  const creds = credentialsDir(EXAMPLE_CREDENTIALS);
  t.teardown(creds.remove);
  const r = loadConfig({ file: EXAMPLE_FILE, env: {}, credentialsDir: creds.dir });
  if (!r.ok) return t.fail('example invalid');
  const red = redactConfig(r.config) as any;
  t.equal(red.freeswitch.esl.password, '[redacted]');
  t.equal(red.drachtio.secret, '[redacted]');
  t.equal(red.trunks[0].password, '[redacted]');
  t.equal(red.bots.support.headers.Authorization, '[redacted]');
  t.equal(red.api.token, '[redacted]');
  t.equal(red.trunks[0].username, '0801234567');
  t.equal(red.freeswitch.esl.port, 8021);
  t.notMatch(JSON.stringify(red), /SECRET-/);
  t.notOk(Object.isFrozen(red), 'a plain, unfrozen copy');
  t.equal(r.config.api.token, 'SECRET-api-c0ffee', 'the input is unchanged');
  t.notOk('twilio' in red.api, 'absent optional secrets stay absent');
  t.end();
});

t.test('no secret value ever appears in print-config, check-config or redactConfig output (property)', (t) => {
  const secretArb = fc.string({ minLength: 1, maxLength: 24 }).map((s) => `Zq9${s.replace(/[\r\n]/g, '')}`)
    .filter((s) => !s.startsWith('env:') && !s.startsWith('cred:'));
  fc.assert(fc.property(
    fc.record({ esl: secretArb, drachtio: secretArb, trunk: secretArb, header: secretArb, api: secretArb, twilio: secretArb, cred: secretArb }),
    (v) => {
      const creds = credentialsDir({ hdr: v.cred });
      try {
        const args = { text: everySecret(v), env: { DRACHTIO: v.drachtio }, credentialsDir: creds.dir };
        const r = loadConfig(args);
        if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
        const outputs = [printConfig(args).output, checkConfig(args).output, JSON.stringify(redactConfig(r.config))];
        for (const secret of Object.values(v)) {
          for (const out of outputs) if (out.includes(secret)) return false;
        }
        return true;
      } finally {
        creds.remove();
      }
    },
  ), { numRuns: 60 });
  t.pass('60 random secret sets never leaked');
  t.end();
});

t.test('printConfig output is YAML equal to redactConfig of the loaded config', (t) => {
  const args = { text: everySecret({ esl: 'a1', drachtio: 'x', trunk: 'a3', header: 'a4', api: 'a5', twilio: 'a6' }), env: { DRACHTIO: 'a2' }, credentialsDir: undefined };
  const creds = credentialsDir({ hdr: 'a7' });
  t.teardown(creds.remove);
  const withCreds = { ...args, credentialsDir: creds.dir };
  const printed = printConfig(withCreds);
  t.equal(printed.exitCode, 0);
  const r = loadConfig(withCreds);
  if (!r.ok) return t.fail('invalid');
  t.same(parse(printed.output), redactConfig(r.config));
  t.end();
});

t.test('error messages about secrets never show the value', (t) => {
  const text = 'freeswitch: { esl: { password: 987654321 } }\napi: { token: [Zq9-list-secret] }\n';
  const r = loadConfig({ text, env: {} });
  t.equal(r.ok, false);
  if (r.ok) return t.end();
  t.same(r.errors.map((e) => [e.code, e.path]), [['CONFIG_INVALID', 'freeswitch.esl.password'], ['CONFIG_INVALID', 'api.token']]);
  const all = JSON.stringify(r.errors);
  t.notMatch(all, /987654321/);
  t.notMatch(all, /Zq9-list-secret/);
  t.end();
});
