import t from 'tap';
import { checkFormat, checkHeaderName, parseHostPort, isWildcardHost } from '../../../src/config/formats.js';
import { closest, editDistance } from '../../../src/config/suggest.js';
import { resolveSecret } from '../../../src/config/secret-ref.js';

const ok = (f: Parameters<typeof checkFormat>[0], s: string): boolean => checkFormat(f, s) === undefined;

t.test('host:port', (t) => {
  t.same(parseHostPort('127.0.0.1:8090'), { host: '127.0.0.1', port: 8090 });
  t.same(parseHostPort('[::1]:1'), { host: '::1', port: 1 });
  t.same(parseHostPort('media.example:65535'), { host: 'media.example', port: 65535 });
  for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', ':80', '::1:80', '[127.0.0.1]:80', 'a b:80', '1.2.3.4:80a', '1.2.3.4:-1', '[::1]']) {
    t.equal(parseHostPort(bad), undefined, bad);
  }
  t.ok(isWildcardHost('0.0.0.0'));
  t.ok(isWildcardHost('::'));
  t.notOk(isWildcardHost('127.0.0.1'));
  t.end();
});

t.test('CIDR blocks', (t) => {
  for (const good of ['10.0.0.0/8', '203.0.113.7', '203.0.113.7/32', '0.0.0.0/0', '2001:db8::/32', '::1', '::/0', '::ffff:192.0.2.0/120', 'fe80::/10']) {
    t.ok(ok('cidr', good), good);
  }
  for (const bad of ['10.0.0.1/8', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8/8', '300.0.0.0/8', 'foo', '2001:db8::1/32', '2001:db8::/129', '10.0.0.0/a']) {
    t.notOk(ok('cidr', bad), bad);
  }
  t.end();
});

t.test('sip URIs, ws URLs, DIDs, names', (t) => {
  for (const good of ['sip:a.example', 'sips:a.example:5061', 'sip:user@10.0.0.1:5060;transport=tcp', 'sip:[2001:db8::1]:5060']) t.ok(ok('sipUri', good), good);
  for (const bad of ['http://a', 'sip:', 'sip:a.example:0', 'sip:a b', 'a.example', 'sip:[zz]:5060']) t.notOk(ok('sipUri', bad), bad);
  for (const good of ['ws://127.0.0.1:1/x', 'wss://bot.example/path?q=1']) t.ok(ok('wsUrl', good), good);
  for (const bad of ['http://a', 'ws//a', 'bot.example']) t.notOk(ok('wsUrl', bad), bad);
  for (const good of ['+918012345678', '0801234567', '1']) t.ok(ok('did', good), good);
  for (const bad of ['+', '+91 80', 'abc', '++1', '123456789012345678901']) t.notOk(ok('did', bad), bad);
  for (const good of ['a', 'echo-twilio', 'op.a_1']) t.ok(ok('name', good), good);
  for (const bad of ['-a', 'a b', 'a/b', 'x'.repeat(65)]) t.notOk(ok('name', bad), bad);
  t.end();
});

t.test('header names', (t) => {
  t.equal(checkHeaderName('Authorization'), undefined);
  t.equal(checkHeaderName('X-Api-Key'), undefined);
  for (const bad of ['Host', 'upgrade', 'Sec-WebSocket-Key', 'Bad Header', 'a:b']) t.not(checkHeaderName(bad), undefined, bad);
  t.end();
});

t.test('suggestions', (t) => {
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.equal(closest('pasword', ['host', 'password']), 'password');
  t.equal(closest('PORT', ['host', 'port']), 'port');
  t.equal(closest('zzz', ['host', 'port']), undefined);
  t.equal(closest('x', []), undefined);
  t.end();
});

t.test('secret references', (t) => {
  t.same(resolveSecret('plain', { env: {} }), { ok: true, value: 'plain' });
  t.same(resolveSecret('env:A', { env: { A: 'v' } }), { ok: true, value: 'v' });
  t.match(resolveSecret('env:A', { env: {} }), { ok: false, missing: true });
  t.match(resolveSecret('env:A-B', { env: {} }), { ok: false, missing: false });
  const readCredential = (name: string) => (name === 'c' ? { ok: true as const, value: 'v\r\n' } : { ok: false as const, reason: 'ENOENT' });
  t.same(resolveSecret('cred:c', { env: {}, readCredential }), { ok: true, value: 'v' });
  t.match(resolveSecret('cred:d', { env: {}, readCredential }), { ok: false, missing: true });
  t.match(resolveSecret('cred:..', { env: {}, readCredential }), { ok: false, missing: false });
  t.match(resolveSecret('cred:a/b', { env: {}, readCredential }), { ok: false, missing: false });
  t.end();
});
