import t from 'tap';
import { decodePathSegment, parseRequestTarget } from '../../../src/api/http-util.js';

t.test('origin-form and absolute-form targets split into a raw path and query', async (t) => {
  t.same(parseRequestTarget('/v1/calls'), { path: '/v1/calls', query: '' });
  t.same(parseRequestTarget('/v1/calls/%ZZ/hangup'), { path: '/v1/calls/%ZZ/hangup', query: '' }, 'escapes are not checked here');
  t.same(parseRequestTarget('/metrics?name=a%20b&x=/y?'), { path: '/metrics', query: 'name=a%20b&x=/y?' });
  t.same(parseRequestTarget('//x'), { path: '//x', query: '' }, 'an empty first segment is a path');
  t.same(parseRequestTarget('http://127.0.0.1:8080/healthz'), { path: '/healthz', query: '' });
  t.same(parseRequestTarget('HTTP://[::1]:8080/readyz?a=1'), { path: '/readyz', query: 'a=1' });
  t.same(parseRequestTarget('http://host'), { path: '/', query: '' });
  t.same(parseRequestTarget('http://host?q'), { path: '/', query: 'q' });
});

t.test('anything else is refused without decoding', async (t) => {
  for (const target of ['', '*', 'healthz', 'example.com:443', '//[', '/a]', '/a{b}', '/a"b', '/a|b', '/a\\b', '/a#frag', '/a b',
    '/é', '/?a[]=1', 'http://[/x', 'http://user@host/x', 'ftp://host/x', 'http:/x', 'http://host:80x/y']) {
    t.equal(parseRequestTarget(target), null, JSON.stringify(target));
  }
});

t.test('path segments decode as UTF-8, or null for a bad escape', async (t) => {
  t.equal(decodePathSegment('c1'), 'c1');
  t.equal(decodePathSegment('c%31'), 'c1');
  t.equal(decodePathSegment('a%2Fb'), 'a/b', 'an encoded slash stays inside the segment');
  t.equal(decodePathSegment('%E0%A4%A8'), '\u0928');
  for (const bad of ['%ZZ', '%', '%4', 'c%1', '%E0%A4%A', '%E0%A4', '%C0%AF', '%FF', '%ED%A0%80']) {
    t.equal(decodePathSegment(bad), null, bad);
  }
});
