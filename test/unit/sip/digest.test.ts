import t from 'tap';
import {
  computeResponse, parseChallenge, parseCredentials, buildAuthorization, verifyCredentials, formatNc, ha1, parseAuthParams,
} from '../../../src/sip/digest.js';

// RFC 2617 §3.5 example.
const RFC = {
  username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com', method: 'GET',
  uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
};

t.test('RFC 2617 §3.5 vector', async (t) => {
  t.equal(computeResponse(RFC), '6629fae49393a05397450978507c4ef1');
  const cred = parseCredentials(
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  t.ok(cred);
  t.equal(verifyCredentials(cred!, 'GET', { username: 'Mufasa', password: 'Circle Of Life' }), 'ok');
  t.equal(verifyCredentials(cred!, 'GET', { ha1: ha1('Mufasa', 'testrealm@host.com', 'Circle Of Life') }), 'ok');
  t.equal(verifyCredentials(cred!, 'GET', { username: 'Mufasa', password: 'wrong' }), 'bad-response');
  t.equal(verifyCredentials(cred!, 'POST', { username: 'Mufasa', password: 'Circle Of Life' }), 'bad-response');
  t.equal(verifyCredentials({ ...cred!, algorithm: 'SHA-256' }, 'GET', { username: 'Mufasa', password: 'Circle Of Life' }), 'unsupported');
  t.equal(verifyCredentials({ ...cred!, cnonce: undefined }, 'GET', { username: 'Mufasa', password: 'Circle Of Life' }), 'missing-fields');
});

t.test('no-qop (RFC 2069) response', async (t) => {
  // HA1:nonce:HA2 without qop; computed independently with md5sum for this input.
  const r = computeResponse({ ...RFC, qop: undefined });
  t.equal(r, '670fd8c2df070c60b045671b8b24ff02');
});

t.test('challenge parsing', async (t) => {
  const c = parseChallenge('Digest realm="example.com", nonce="a,b", algorithm=MD5, qop="auth,auth-int", stale=TRUE, opaque="o"');
  t.same(c, { realm: 'example.com', nonce: 'a,b', algorithm: 'MD5', qop: ['auth', 'auth-int'], stale: true, opaque: 'o' });
  t.equal(parseChallenge('Basic realm="x"'), undefined);
  t.equal(parseChallenge('Digest realm="x"'), undefined);
  t.same(parseAuthParams('a="x\\"y", b=1'), { a: 'x"y', b: '1' });
  t.equal(parseCredentials('Digest username="u"'), undefined);
});

t.test('client header verifies on the server side', async (t) => {
  const ch = parseChallenge('Digest realm="sip.test", nonce="n0nce", qop="auth", opaque="op"')!;
  const h = buildAuthorization(ch, { username: 'alice', password: 'pw', method: 'REGISTER', uri: 'sip:sip.test', nc: 1, cnonce: 'deadbeef' });
  t.match(h, /nc=00000001/);
  t.match(h, /opaque="op"/);
  const cred = parseCredentials(h)!;
  t.equal(verifyCredentials(cred, 'REGISTER', { username: 'alice', password: 'pw' }), 'ok');
  t.equal(formatNc(255), '000000ff');
  // no qop offered → no qop in the answer
  const h2 = buildAuthorization({ realm: 'r', nonce: 'n' }, { username: 'a', password: 'p', method: 'INVITE', uri: 'sip:x', nc: 1, cnonce: 'c' });
  t.notMatch(h2, /qop/);
  t.equal(verifyCredentials(parseCredentials(h2)!, 'INVITE', { username: 'a', password: 'p' }), 'ok');
});
