import t from 'tap';
import { loadConfig } from '../../../src/config/load.js';
import type { ConfigError } from '../../../src/config/config-error.js';
import { MINIMAL, credentialsDir } from './helpers.js';

/** Loads text that must be invalid; returns its errors. */
function errorsOf(text: string, env: Record<string, string> = {}, credDir?: string): ConfigError[] {
  const r = loadConfig({ text, env, credentialsDir: credDir });
  if (r.ok) throw new Error('expected an invalid config');
  return r.errors;
}
const pairs = (errors: ConfigError[]): [string, string][] => errors.map((e) => [e.code, e.path]);

t.test('every kind of error in one file is reported at once, in file order', (t) => {
  const text = `log: { level: verbose, redactPersonalData: yes }
freeswitch:
  esl: { host: 127.0.0.1, port: 80a, pasword: x, reconnect: { initialDelayMs: 9000, maxDelayMs: 5000 } }
  playback: files
  sampleRate: 44100
media: { listen: "0.0.0.0:8090", segmentMs: 30, maxMessageBytes: -1 }
trunks:
  - name: a
    registrar: http://x
    username: 0801234567
    password: env:NOPE
    inbound: { allow: [203.0.113.5/24, 10.0.0.0/33, foo, "2001:db8::/129"] }
  - name: a
    registrar: sip:b.example:99999
    outbound: { callsPerSecond: 0 }
bots:
  support: { url: https://bot, protocol: twilio, onDisconnect: fallback, sampleRate: 16000 }
  ok: { url: "ws://127.0.0.1:1/x", protocol: exotel, encoding: mulaw, headers: { Authorization: cred:bot-token, Host: x } }
routes:
  - { did: +918012345678, bot: suport }
  - { did: "+918012345678", bot: support, trunk: zz }
api: { listen: "127.0.0.1:99999" }
calls: { maxConcurent: 3 }
`;
  const errors = errorsOf(text);
  t.same(pairs(errors), [
    ['CONFIG_INVALID', 'drachtio'],
    ['CONFIG_INVALID', 'log.level'],
    ['CONFIG_INVALID', 'log.redactPersonalData'],
    ['CONFIG_SECRET_MISSING', 'freeswitch.esl.password'],
    ['CONFIG_INVALID', 'freeswitch.esl.port'],
    ['CONFIG_UNKNOWN_KEY', 'freeswitch.esl.pasword'],
    ['CONFIG_INVALID', 'freeswitch.esl.reconnect.maxDelayMs'],
    ['CONFIG_INVALID', 'freeswitch.playback'],
    ['CONFIG_INVALID', 'freeswitch.sampleRate'],
    ['CONFIG_INVALID', 'media.advertise'],
    ['CONFIG_INVALID', 'media.segmentMs'],
    ['CONFIG_INVALID', 'media.maxMessageBytes'],
    ['CONFIG_INVALID', 'trunks[0].registrar'],
    ['CONFIG_INVALID', 'trunks[0].username'],
    ['CONFIG_SECRET_MISSING', 'trunks[0].password'],
    ['CONFIG_INVALID', 'trunks[0].inbound.allow[0]'],
    ['CONFIG_INVALID', 'trunks[0].inbound.allow[1]'],
    ['CONFIG_INVALID', 'trunks[0].inbound.allow[2]'],
    ['CONFIG_INVALID', 'trunks[0].inbound.allow[3]'],
    ['CONFIG_INVALID', 'trunks[1].name'],
    ['CONFIG_INVALID', 'trunks[1].registrar'],
    ['CONFIG_INVALID', 'trunks[1].outbound.callsPerSecond'],
    ['CONFIG_INVALID', 'bots.support.fallbackAudio'],
    ['CONFIG_INVALID', 'bots.support.url'],
    ['CONFIG_INVALID', 'bots.support.sampleRate'],
    ['CONFIG_INVALID', 'bots.ok.encoding'],
    ['CONFIG_SECRET_MISSING', 'bots.ok.headers.Authorization'],
    ['CONFIG_INVALID', 'bots.ok.headers.Host'],
    ['CONFIG_INVALID', 'routes[0].did'],
    ['CONFIG_INVALID', 'routes[0].bot'],
    ['CONFIG_INVALID', 'routes[1].trunk'],
    ['CONFIG_SECRET_MISSING', 'api.token'],
    ['CONFIG_INVALID', 'api.listen'],
    ['CONFIG_UNKNOWN_KEY', 'calls.maxConcurent'],
  ]);
  for (const e of errors) {
    t.equal(typeof e.line, 'number', `${e.path} has a line`);
    t.ok(e.message.startsWith(`${e.path === '' ? 'config' : e.path}: expected `), `${e.path} message names the path first`);
    t.ok(e.message.includes(e.expected) && e.message.includes(e.found), `${e.path} message holds expected and found`);
  }
  const byPath = new Map(errors.map((e) => [e.path, e]));
  t.equal(byPath.get('freeswitch.esl.port')?.found, '"80a"');
  t.equal(byPath.get('freeswitch.esl.port')?.line, 3);
  t.equal(byPath.get('freeswitch.esl.port')?.column, 33);
  t.equal(byPath.get('freeswitch.esl.pasword')?.suggestion, 'password');
  t.equal(byPath.get('calls.maxConcurent')?.suggestion, 'maxConcurrent');
  t.equal(byPath.get('routes[0].bot')?.suggestion, 'support');
  t.equal(byPath.get('freeswitch.playback')?.suggestion, 'file');
  t.equal(byPath.get('trunks[0].username')?.found, 'the number 0801234567', 'the number is shown as written');
  t.equal(byPath.get('routes[0].did')?.found, 'the number +918012345678');
  t.end();
});

t.test('wrong types', (t) => {
  const errors = errorsOf(`${MINIMAL}log: [1]\nmedia: { listen: 8090 }\ncalls: { maxConcurrent: "10", drainTimeoutMs: 1.5 }\ntrunks: { name: a }\nroutes: [ null ]\nbots: { b: 3 }\n`);
  t.same(pairs(errors), [
    ['CONFIG_INVALID', 'log'],
    ['CONFIG_INVALID', 'media.listen'],
    ['CONFIG_INVALID', 'calls.maxConcurrent'],
    ['CONFIG_INVALID', 'calls.drainTimeoutMs'],
    ['CONFIG_INVALID', 'trunks'],
    ['CONFIG_INVALID', 'routes[0]'],
    ['CONFIG_INVALID', 'bots.b'],
  ]);
  t.end();
});

t.test('out of range values, each bound', (t) => {
  const cases: [string, string][] = [
    ['freeswitch: { esl: { password: p, port: 0 } }', 'freeswitch.esl.port'],
    ['freeswitch: { esl: { password: p, port: 65536 } }', 'freeswitch.esl.port'],
    ['freeswitch: { esl: { password: p, commandTimeoutMs: 99 } }', 'freeswitch.esl.commandTimeoutMs'],
    ['freeswitch: { esl: { password: p }, outboundSocket: { port: 70000 } }', 'freeswitch.outboundSocket.port'],
    ['freeswitch: { esl: { password: p } }\nmedia: { playoutBufferMs: 1000, segmentMs: 2000 }', 'media.playoutBufferMs'],
    ['freeswitch: { esl: { password: p } }\ncalls: { maxConcurrent: 0 }', 'calls.maxConcurrent'],
    ['freeswitch: { esl: { password: p } }\ndrachtio: { secret: s }\ntrunks: [ { name: a, registrar: "sip:a.example", expiresSec: 59 } ]', 'trunks[0].expiresSec'],
  ];
  for (const [yaml, path] of cases) {
    t.same(pairs(errorsOf(`${yaml}\napi: { token: t }\n`)), [['CONFIG_INVALID', path]], path);
  }
  t.end();
});

t.test('unknown keys at every level, with and without a suggestion', (t) => {
  const errors = errorsOf(`${MINIMAL}colour: red\nFreeswitch: {}\nbots: { b: { url: "ws://h/", protocol: native, tls: { rejectUnauthorised: false }, zzz: 1 } }\n`);
  t.same(pairs(errors), [
    ['CONFIG_UNKNOWN_KEY', 'colour'],
    ['CONFIG_UNKNOWN_KEY', 'Freeswitch'],
    ['CONFIG_UNKNOWN_KEY', 'bots.b.tls.rejectUnauthorised'],
    ['CONFIG_UNKNOWN_KEY', 'bots.b.zzz'],
  ]);
  t.same(errors.map((e) => e.suggestion), [undefined, 'freeswitch', 'rejectUnauthorized', undefined]);
  t.end();
});

t.test('missing secrets: env unset or empty, no credentials directory, missing or empty credential file', (t) => {
  const creds = credentialsDir({ empty: '\n', good: 'value' });
  t.teardown(creds.remove);
  const text = 'freeswitch: { esl: { password: env:ESL_PW } }\napi: { token: env:EMPTY, twilio: { accountSid: AC1, authToken: cred:absent } }\ndrachtio: { secret: cred:empty }\nbots: { b: { url: "ws://h/", protocol: native, headers: { X-Key: cred:good } } }\n';
  const errors = errorsOf(text, { EMPTY: '' }, creds.dir);
  t.same(pairs(errors), [
    ['CONFIG_SECRET_MISSING', 'freeswitch.esl.password'],
    ['CONFIG_SECRET_MISSING', 'api.token'],
    ['CONFIG_SECRET_MISSING', 'api.twilio.authToken'],
    ['CONFIG_SECRET_MISSING', 'drachtio.secret'],
  ]);
  const noDir = errorsOf('freeswitch: { esl: { password: cred:esl } }\napi: { token: t }\n');
  t.same(pairs(noDir), [['CONFIG_SECRET_MISSING', 'freeswitch.esl.password']]);
  t.end();
});

t.test('malformed secret references are invalid, not missing, and cannot escape the credentials directory', (t) => {
  const creds = credentialsDir({});
  t.teardown(creds.remove);
  const errors = errorsOf('freeswitch: { esl: { password: "cred:../etc/passwd" } }\napi: { token: "env:1BAD" }\n', {}, creds.dir);
  t.same(pairs(errors), [['CONFIG_INVALID', 'freeswitch.esl.password'], ['CONFIG_INVALID', 'api.token']]);
  t.end();
});

t.test('YAML syntax errors carry line and column', (t) => {
  const r = loadConfig({ text: 'freeswitch:\n  esl: [1, 2\napi: 1\napi: 2\n', env: {} });
  t.equal(r.ok, false);
  if (r.ok) return t.end();
  t.ok(r.errors.length >= 1);
  for (const e of r.errors) {
    t.equal(e.code, 'CONFIG_YAML');
    t.equal(e.path, '');
    t.type(e.line, 'number');
    t.type(e.column, 'number');
  }
  const dup = loadConfig({ text: `${MINIMAL}log: {}\nlog: {}\n`, env: {} });
  t.same(dup.ok ? [] : dup.errors.map((e) => [e.code, e.line]), [['CONFIG_YAML', 4]], 'duplicate key is a YAML error on its line');
  t.end();
});

t.test('file errors', (t) => {
  const missing = loadConfig({ file: '/nonexistent/fsbridge.yaml', env: {} });
  t.same(missing.ok ? [] : pairs(missing.errors), [['CONFIG_FILE', '']]);
  const none = loadConfig({ env: {} });
  t.same(none.ok ? [] : pairs(none.errors), [['CONFIG_FILE', '']]);
  t.end();
});

t.test('empty or non-mapping documents', (t) => {
  for (const text of ['', '# only a comment\n', '[1, 2]\n', 'hello\n']) {
    t.same(pairs(errorsOf(text)), [['CONFIG_INVALID', '']], JSON.stringify(text));
  }
  t.end();
});

t.test('cross-field rules', (t) => {
  const base = `${MINIMAL}drachtio: { secret: s }\n`;
  const cases: [string, [string, string][]][] = [
    // dangling route bot and trunk
    ['bots: { a: { url: "ws://h/", protocol: native } }\nroutes: [ { did: "123", bot: nobody, trunk: nowhere } ]',
      [['CONFIG_INVALID', 'routes[0].bot'], ['CONFIG_INVALID', 'routes[0].trunk']]],
    // fallback without audio
    ['bots: { a: { url: "ws://h/", protocol: native, onDisconnect: fallback } }', [['CONFIG_INVALID', 'bots.a.fallbackAudio']]],
    // issue 12: a prompt for the silence timeout
    ['bots: { a: { url: "ws://h/", protocol: native, silenceTimeout: { afterSec: 5, action: prompt } } }', [['CONFIG_INVALID', 'bots.a.silenceTimeout.prompt']]],
    // duplicate trunk names
    ['trunks: [ { name: t, registrar: "sip:a.example" }, { name: t, registrar: "sip:b.example" } ]', [['CONFIG_INVALID', 'trunks[1].name']]],
    // password without username; digest without password
    ['trunks: [ { name: t, registrar: "sip:a.example", password: p }, { name: u, registrar: "sip:b.example", inbound: { digest: true } } ]',
      [['CONFIG_INVALID', 'trunks[0].username'], ['CONFIG_INVALID', 'trunks[1].password']]],
    // duplicate DID on the same trunk; same DID on another trunk is fine
    ['bots: { a: { url: "ws://h/", protocol: native } }\ntrunks: [ { name: t, registrar: "sip:a.example" } ]\nroutes: [ { did: "1", bot: a }, { did: "1", bot: a, trunk: t }, { did: "1", bot: a } ]',
      [['CONFIG_INVALID', 'routes[2].did']]],
  ];
  for (const [extra, expected] of cases) {
    t.same(pairs(errorsOf(`${base}${extra}\n`)), expected, extra.slice(0, 60));
  }
  // comfort noise needs pipe playback (the default)
  const noise = 'bots: { a: { url: "ws://h/", protocol: native, comfortNoise: { levelDbfs: -60 } } }\n';
  t.same(pairs(errorsOf(`freeswitch: { esl: { password: eslpw }, playback: file }\napi: { token: apitok }\n${noise}`)), [['CONFIG_INVALID', 'bots.a.comfortNoise']], 'comfort noise with file playback');
  t.equal(loadConfig({ text: `${MINIMAL}${noise}`, env: {} }).ok, true, 'comfort noise with the default (pipe) playback');
  t.end();
});

t.test('two listeners on one address', (t) => {
  const text = 'freeswitch: { esl: { password: p }, outboundSocket: { port: 8090 } }\napi: { listen: "127.0.0.1:8090", token: t }\n';
  t.same(pairs(errorsOf(text)), [['CONFIG_INVALID', 'freeswitch.outboundSocket.port'], ['CONFIG_INVALID', 'api.listen']]);
  const wildcard = 'freeswitch: { esl: { password: p } }\nmedia: { listen: "0.0.0.0:9000", advertise: "10.0.0.1:9000" }\napi: { listen: "127.0.0.1:9000", token: t }\n';
  t.same(pairs(errorsOf(wildcard)), [['CONFIG_INVALID', 'api.listen']], 'a wildcard bind covers every address on its port');
  const wildcardLater = 'freeswitch: { esl: { password: p } }\nmedia: { listen: "127.0.0.1:9000" }\napi: { listen: "[::]:9000", token: t }\n';
  t.same(pairs(errorsOf(wildcardLater)), [['CONFIG_INVALID', 'api.listen']], 'in either order');
  t.end();
});

t.test('an invalid bot does not hide rule errors of another bot', (t) => {
  const errors = errorsOf(`${MINIMAL}bots:\n  a: { url: "http://h/", protocol: native }\n  b: { url: "ws://h/", protocol: native, onDisconnect: fallback }\n`);
  t.same(pairs(errors), [['CONFIG_INVALID', 'bots.a.url'], ['CONFIG_INVALID', 'bots.b.fallbackAudio']]);
  t.end();
});

t.test('trunks need a drachtio section', (t) => {
  t.same(pairs(errorsOf(`${MINIMAL}trunks: [ { name: t, registrar: "sip:a.example" } ]\n`)), [['CONFIG_INVALID', 'drachtio']]);
  t.end();
});

t.test('native μ-law bots must run at 8 kHz', async (t) => {
  const r = loadConfig({
    text: 'freeswitch: { esl: { password: x } }\napi: { token: t }\nbots:\n  b: { url: "ws://127.0.0.1:1/", protocol: native, encoding: mulaw, sampleRate: 16000 }\n',
    env: {},
  });
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.errors.map((e) => ({ code: e.code, path: e.path })), [{ code: 'CONFIG_INVALID', path: 'bots.b.sampleRate' }]);
});

t.test('issue 10: recordings need a master key of 32 bytes', (t) => {
  const bots = 'bots: { b: { url: "ws://127.0.0.1:1/x", protocol: twilio, record: true } }\n';
  const noKey = errorsOf(`${MINIMAL}${bots}`);
  t.same(pairs(noKey), [['CONFIG_INVALID', 'recordings.masterKey']], 'a recorded bot without a master key');
  t.match(noKey[0].message, /bots\.b\.record is true/);
  const route = errorsOf(`${MINIMAL}bots: { b: { url: "ws://127.0.0.1:1/x", protocol: twilio } }\nroutes: [ { did: "+15550001", bot: b, record: true } ]\n`);
  t.match(route[0].message, /routes\[0\]\.record is true/, 'a recorded route too');
  const short = errorsOf(`${MINIMAL}${bots}recordings: { masterKey: env:MK }\n`, { MK: 'abcd' });
  t.same(pairs(short), [['CONFIG_INVALID', 'recordings.masterKey']], 'a key of 2 bytes');
  t.notMatch(short[0].message, /abcd/, 'the value is not printed');
  const ok = loadConfig({ text: `${MINIMAL}${bots}recordings: { masterKey: env:MK, previousMasterKey: env:OLD }\n`, env: { MK: 'ab'.repeat(32), OLD: Buffer.alloc(32, 7).toString('base64') } });
  t.ok(ok.ok, 'hex and base64 keys');
  t.end();
});
