// The digest-uri of an Authorization header must name the resource of the Request-URI
// (RFC 2617 §3.2.2.5, RFC 7616 §3.4.6), compared as SIP URIs (RFC 3261 §19.1.4).
import t from 'tap';
import { digestUriMatches, parseNc } from '../../../src/sip/digest.js';

t.test('the same URI matches; another DID, host, port or scheme does not', async (t) => {
  const r = 'sip:15551234@10.0.0.5:5060';
  t.ok(digestUriMatches(r, r));
  t.notOk(digestUriMatches('sip:15559999@10.0.0.5:5060', r), 'another DID');
  t.notOk(digestUriMatches('sip:+15551234@10.0.0.5:5060', r), 'user part compared exactly');
  t.notOk(digestUriMatches('sip:15551234@10.0.0.6:5060', r), 'another host');
  t.notOk(digestUriMatches('sip:15551234@10.0.0.5:5080', r), 'another port');
  t.notOk(digestUriMatches('sip:15551234@10.0.0.5', r), 'an omitted default port is not the same URI (§19.1.4)');
  t.notOk(digestUriMatches('sips:15551234@10.0.0.5:5060', r), 'another scheme');
  t.notOk(digestUriMatches('sip:10.0.0.5:5060', r), 'no user part');
  t.notOk(digestUriMatches('', r));
  t.notOk(digestUriMatches('*', r));
});

t.test('equivalent spellings match (§19.1.4)', async (t) => {
  t.ok(digestUriMatches('SIP:15551234@Example.COM', 'sip:15551234@example.com'), 'scheme and host case-insensitive');
  t.ok(digestUriMatches('sip:%31%35551234@example.com', 'sip:15551234@example.com'), 'escaped unreserved characters');
  t.notOk(digestUriMatches('sip:Alice@example.com', 'sip:alice@example.com'), 'user part is case-sensitive');
  t.ok(digestUriMatches('sip:1@example.com;transport=UDP', 'sip:1@example.com;Transport=udp'), 'parameter names and values case-insensitive');
  t.ok(digestUriMatches('sip:1@example.com;lr;foo=1', 'sip:1@example.com;bar=2'), 'other parameters compared only when in both');
  t.notOk(digestUriMatches('sip:1@example.com;foo=1', 'sip:1@example.com;foo=2'), 'a parameter in both must match');
  t.notOk(digestUriMatches('sip:1@example.com;transport=tcp', 'sip:1@example.com'), 'transport/user/ttl/method/maddr must be in both');
  t.notOk(digestUriMatches('sip:1@example.com;user=phone', 'sip:1@example.com'));
  t.notOk(digestUriMatches('sip:1@example.com?subject=x', 'sip:1@example.com'), 'headers are never ignored');
  t.ok(digestUriMatches('sip:1@[2001:db8::1]:5060', 'sip:1@[2001:DB8::1]:5060'), 'IPv6 reference');
});

t.test('non-SIP URIs match only byte for byte', async (t) => {
  t.ok(digestUriMatches('tel:+15551234', 'tel:+15551234'));
  t.notOk(digestUriMatches('tel:+15551234', 'tel:+15559999'));
});

t.test('nonce counts: 8 hex digits, never zero', async (t) => {
  t.equal(parseNc('00000001'), 1);
  t.equal(parseNc('000000fF'), 255);
  t.equal(parseNc('ffffffff'), 0xffffffff);
  t.equal(parseNc('00000000'), undefined);
  t.equal(parseNc('1'), undefined);
  t.equal(parseNc('0000000g'), undefined);
  t.equal(parseNc('000000001'), undefined);
  t.equal(parseNc(undefined), undefined);
});
