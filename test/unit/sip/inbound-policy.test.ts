import t from 'tap';
import { compileAllowList } from '../../../src/sip/cidr.js';
import { checkNonce, makeNonce, matchRoute, sameNumber, uriUser, uriWithUser, compileTrunks, trunkForSource } from '../../../src/sip/inbound-policy.js';
import { classifyFailure } from '../../../src/sip/outbound.js';
import type { TrunkConfig } from '../../../src/config/schema.js';

t.test('allow lists: IPv4, IPv6, single addresses, mapped IPv4, bad entries', async (t) => {
  const l = compileAllowList(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7', 'not-an-ip', '10.0.0.0/33', '1.2.3.4/8/1']);
  t.same(l.bad, ['not-an-ip', '10.0.0.0/33', '1.2.3.4/8/1']);
  t.ok(l.has('192.0.2.200'));
  t.notOk(l.has('192.0.3.1'));
  t.ok(l.has('2001:db8:1::5'));
  t.ok(l.has('[2001:db8::1]'));
  t.notOk(l.has('2001:db9::1'));
  t.ok(l.has('198.51.100.7'));
  t.notOk(l.has('198.51.100.8'));
  t.ok(l.has('::ffff:192.0.2.9'), 'IPv4-mapped source matches an IPv4 block');
  t.notOk(l.has(''));
  t.notOk(compileAllowList([]).has('127.0.0.1'));
});

t.test('trunkForSource picks the first trunk whose list holds the address', async (t) => {
  const mk = (name: string, allow: string[]): TrunkConfig => ({ name, registrar: 'sip:x', expiresSec: 60, register: false, inbound: { allow, digest: false }, outbound: { maxConcurrent: 1, callsPerSecond: 1, queueMax: 1 } });
  const trunks = compileTrunks([mk('a', ['10.0.0.0/8']), mk('b', ['10.1.0.0/16', '::1'])]);
  t.equal(trunkForSource(trunks, '10.1.2.3')?.name, 'a');
  t.equal(trunkForSource(trunks, '::1')?.name, 'b');
  t.equal(trunkForSource(trunks, '127.0.0.1'), undefined);
});

t.test('uriUser, sameNumber, matchRoute', async (t) => {
  t.equal(uriUser('sip:+15551234@host:5060;transport=udp'), '+15551234');
  t.equal(uriUser('"Bob" <sips:bob@example.com>;tag=1'), 'bob');
  t.equal(uriUser('<sip:example.com>'), undefined);
  t.equal(uriUser('sip:%2B49@h'), '+49');
  t.equal(uriUser(undefined), undefined);
  t.ok(sameNumber('+4930', '4930'));
  t.notOk(sameNumber('4930', '49301'));
  const routes = [{ did: '+100', bot: 'a', trunk: 't1' }, { did: '100', bot: 'b' }];
  t.equal(matchRoute(routes, '100', 't1')?.bot, 'a');
  t.equal(matchRoute(routes, '+100', 't2')?.bot, 'b');
  t.equal(matchRoute(routes, '101', 't1'), undefined);
});

t.test('uriWithUser', async (t) => {
  t.equal(uriWithUser('sip:127.0.0.1:5080', '15551234'), 'sip:15551234@127.0.0.1:5080');
  t.equal(uriWithUser('sip:old@127.0.0.1:5080;transport=tcp', '+49 30'), 'sip:+49%2030@127.0.0.1:5080;transport=tcp');
  t.equal(uriWithUser('sips:[::1]:5081', 'x'), 'sips:x@[::1]:5081');
});

t.test('stateless nonces: accepted while fresh under the same key, refused otherwise', async (t) => {
  const key = Buffer.alloc(32, 1);
  const n = makeNonce(key, 1_000_000);
  t.ok(checkNonce(key, n, 1_000_000, 60_000));
  t.ok(checkNonce(key, n, 1_060_000, 60_000));
  t.notOk(checkNonce(key, n, 1_060_001, 60_000), 'expired');
  t.notOk(checkNonce(key, n, 990_000, 60_000), 'from the future');
  t.notOk(checkNonce(Buffer.alloc(32, 2), n, 1_000_000, 60_000), 'other key');
  t.notOk(checkNonce(key, n.replace(/.$/, (c) => (c === '0' ? '1' : '0')), 1_000_000, 60_000), 'tampered');
  t.notOk(checkNonce(key, 'garbage', 1_000_000, 60_000));
});

t.test('outbound failure classes', async (t) => {
  t.equal(classifyFailure(486), 'busy');
  t.equal(classifyFailure(600), 'busy');
  t.equal(classifyFailure(480), 'no-answer');
  t.equal(classifyFailure(408), 'no-answer');
  t.equal(classifyFailure(403), 'rejected');
  t.equal(classifyFailure(404), 'rejected');
  t.equal(classifyFailure(603), 'rejected');
  t.equal(classifyFailure(503), 'failed');
  t.equal(classifyFailure(488), 'failed');
});
