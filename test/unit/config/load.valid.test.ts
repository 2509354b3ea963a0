import t from 'tap';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../../src/config/load.js';
import { DEV_FILE, EXAMPLE_CREDENTIALS, EXAMPLE_FILE, MINIMAL, credentialsDir } from './helpers.js';

t.test('the shipped example validates with its credentials', (t) => {
  const creds = credentialsDir(EXAMPLE_CREDENTIALS);
  t.teardown(creds.remove);
  const r = loadConfig({ file: EXAMPLE_FILE, env: {}, credentialsDir: creds.dir });
  if (!r.ok) t.fail(r.errors.map((e) => e.message).join('\n'));
  t.ok(r.ok);
  if (!r.ok) return t.end();
  const c = r.config;
  t.equal(c.freeswitch.esl.password, 'SECRET-esl-7f3a', 'cred: value with its trailing newline removed');
  t.equal(c.trunks[0].password, 'SECRET-trunk-44d0');
  t.equal(c.trunks[0].username, '0801234567');
  t.equal(c.drachtio?.secret, 'SECRET-drachtio-91c2');
  t.equal(c.bots.support.headers.Authorization, 'Bearer SECRET-bot-0b1e');
  t.same(c.trunks[0].inbound.allow, ['203.0.113.0/24', '2001:db8::/32']);
  t.equal(c.routes[1].trunk, 'operator-a');
  t.equal(c.bots.sales.sampleRate, 16000);
  t.equal(c.media.advertise, '127.0.0.1:8090', 'advertise defaults to listen');
  t.end();
});

t.test('the demo config validates with the environment the demo sets', (t) => {
  const r = loadConfig({ file: DEV_FILE, env: { FSBRIDGE_ESL_PASSWORD: 'ClueCon', FSBRIDGE_API_TOKEN: 'demo-token' } });
  if (!r.ok) t.fail(r.errors.map((e) => e.message).join('\n'));
  if (!r.ok) return t.end();
  const c = r.config;
  t.equal(c.freeswitch.esl.port, 18021);
  t.equal(c.freeswitch.esl.password, 'ClueCon');
  t.equal(c.freeswitch.outboundSocket.port, 18084);
  t.equal(c.media.listen, '127.0.0.1:18090');
  t.equal(c.api.listen, '127.0.0.1:18080');
  t.equal(c.api.token, 'demo-token');
  t.same(Object.keys(c.bots).sort(), ['echo-exotel', 'echo-native', 'echo-twilio']);
  for (const b of Object.values(c.bots)) t.match(b.url, /^ws:\/\/127\.0\.0\.1:18091\//);
  t.equal(c.drachtio, undefined);
  t.end();
});

t.test('the demo config without its environment reports both secrets', (t) => {
  const r = loadConfig({ file: DEV_FILE, env: {} });
  t.equal(r.ok, false);
  if (r.ok) return t.end();
  t.same(r.errors.map((e) => [e.code, e.path]), [
    ['CONFIG_SECRET_MISSING', 'freeswitch.esl.password'],
    ['CONFIG_SECRET_MISSING', 'api.token'],
  ]);
  t.end();
});

t.test('defaults are applied to a minimal config', (t) => {
  const r = loadConfig({ text: MINIMAL, env: {} });
  t.ok(r.ok);
  if (!r.ok) return t.end();
  t.same(r.config, {
    log: { level: 'info', redactPersonalData: false },
    freeswitch: {
      esl: { host: '127.0.0.1', port: 8021, password: 'eslpw', commandTimeoutMs: 5000, connectTimeoutMs: 3000, reconnect: { initialDelayMs: 200, maxDelayMs: 5000 } },
      outboundSocket: { host: '127.0.0.1', port: 8084, handshakeTimeoutMs: 5000 },
      playback: 'pipe',
      sampleRate: 8000,
    },
    media: { listen: '127.0.0.1:8090', advertise: '127.0.0.1:8090', maxMessageBytes: 65536, segmentMs: 200, playoutBufferMs: 60000, pipeDir: '/run/fsbridge', pipeLeadMs: 40, workers: 'auto' },
    trunks: [],
    tenants: {},
    bots: {},
    routes: [],
    api: { listen: '127.0.0.1:8080', token: 'apitok' },
    calls: { maxConcurrent: 500, drainTimeoutMs: 30000, answerTimeoutMs: 10000 },
    store: { url: 'sqlite:/var/lib/fsbridge/fsbridge.db', queueMax: 100000 },
    recordings: { dir: '/var/lib/fsbridge/recordings', dataKeyDays: 30, retentionDays: 0 },
  });
  t.notOk('drachtio' in r.config, 'optional section stays absent');
  t.end();
});

t.test('defaults inside list entries, map entries and optional sections', (t) => {
  const text = `${MINIMAL}
drachtio: { secret: s }
trunks: [ { name: t1, registrar: "sip:[2001:db8::1]:5060;transport=tcp" } ]
bots: { b1: { url: "wss://[::1]:9443/x", protocol: native, encoding: mulaw, sampleRate: 8000 } }
media: { listen: "0.0.0.0:8090", advertise: "192.0.2.10:8090" }
`;
  const r = loadConfig({ text, env: {} });
  if (!r.ok) t.fail(r.errors.map((e) => e.message).join('\n'));
  if (!r.ok) return t.end();
  t.same(r.config.drachtio, { host: '127.0.0.1', port: 9022, secret: 's', sipProfileUri: 'sip:127.0.0.1:5080' });
  t.same(r.config.trunks[0], {
    name: 't1', registrar: 'sip:[2001:db8::1]:5060;transport=tcp', expiresSec: 600, register: true,
    inbound: { allow: [], digest: false }, outbound: { maxConcurrent: 30, callsPerSecond: 5, queueMax: 50 }, tenant: 'default',
  });
  t.same(r.config.bots.b1, {
    url: 'wss://[::1]:9443/x', protocol: 'native', headers: {}, connectTimeoutMs: 3000, onDisconnect: 'hangup',
    sampleRate: 8000, encoding: 'mulaw', tls: { rejectUnauthorized: true }, transfer: { allow: [] }, tenant: 'default', record: false,
      speechEvents: false, bargeIn: false, deadLineSec: 20,
  });
  t.equal(r.config.media.advertise, '192.0.2.10:8090');
  t.end();
});

t.test('the result is deep-frozen', (t) => {
  const r = loadConfig({ text: `${MINIMAL}trunks: [ { name: a, registrar: "sip:x.example", inbound: { allow: [10.0.0.0/8] } } ]\ndrachtio: { secret: s }\nbots: { b: { url: "ws://h/x", protocol: twilio, headers: { X-A: v } } }\n`, env: {} });
  t.ok(r.ok);
  if (!r.ok) return t.end();
  const c = r.config as any;
  const all: unknown[] = [];
  const visit = (v: unknown): void => {
    if (v !== null && typeof v === 'object') { all.push(v); Object.values(v).forEach(visit); }
  };
  visit(c);
  t.equal(all.length, 25, "every object of the tree was visited");
  t.ok(all.every((o) => Object.isFrozen(o)), 'every object and array is frozen');
  t.throws(() => { c.freeswitch.esl.port = 1; }, TypeError);
  t.throws(() => { c.trunks[0].inbound.allow.push('1.2.3.4'); }, TypeError);
  t.throws(() => { c.bots.b.headers['X-B'] = 'x'; }, TypeError);
  t.end();
});

t.test('text wins over file, and a file is read when no text is given', (t) => {
  const r = loadConfig({ file: '/nonexistent/fsbridge.yaml', text: MINIMAL, env: {} });
  t.ok(r.ok);
  const raw = readFileSync(DEV_FILE, 'utf8');
  const a = loadConfig({ text: raw, env: { FSBRIDGE_ESL_PASSWORD: 'p', FSBRIDGE_API_TOKEN: 't' } });
  const b = loadConfig({ file: DEV_FILE, env: { FSBRIDGE_ESL_PASSWORD: 'p', FSBRIDGE_API_TOKEN: 't' } });
  t.same(a, b);
  t.end();
});

t.test('empty sections and YAML anchors', (t) => {
  const r = loadConfig({ text: `${MINIMAL}log:\ncalls:\nbots:\n  a: &bot { url: "ws://h/a", protocol: exotel }\n  b: *bot\n`, env: {} });
  t.ok(r.ok);
  if (!r.ok) return t.end();
  t.equal(r.config.log.level, 'info');
  t.equal(r.config.bots.b.url, 'ws://h/a');
  t.end();
});
