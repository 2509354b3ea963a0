// Issue 8, defect 9: hostile or malformed HTTP requests against a real ApiServer on loopback.
// Requests go out as raw bytes over node:net so that targets a URL library would refuse or
// rewrite (`//[`, `%ZZ`) reach the server verbatim. Every answer is a client fault: a 4xx with a
// stable code, a counter, and never an error-level log line or a stack.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import {
  API_HEADERS_TIMEOUT_MS, API_KEEP_ALIVE_TIMEOUT_MS, API_REQUEST_TIMEOUT_MS, ApiServer, type ApiBackend, type ApiServerOptions,
} from '../../../src/api/server.js';
import { MAX_BODY_BYTES } from '../../../src/api/http-util.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { createLogger } from '../../../src/observability/logger.js';

const TOKEN = 'tok';
const SID = 'CA' + 'a'.repeat(32);
const BEARER = `Authorization: Bearer ${TOKEN}\r\n`;
const BASIC = `Authorization: Basic ${Buffer.from('ACtest:secret').toString('base64')}\r\n`;

async function start(t: Test, extra: Partial<ApiServerOptions> = {}) {
  const metrics = new MetricsRegistry();
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  const hungUp: string[] = [];
  const originated: unknown[] = [];
  const backend: ApiBackend = {
    listCalls: async () => ({ calls: [{ callId: 'c1' }], nextCursor: null }),
    exportCalls: async function* () { yield { callId: 'c1' }; },
    getCall: async (id) => (id === 'c1' ? { callId: 'c1' } : undefined),
    originate: async (body) => { originated.push(body); return { status: 201, body: { callId: 'c2' } }; },
    hangup: async (id) => { hungUp.push(id); return id === 'c1'; },
    findTwilioCall: (sid) => (sid === SID ? { callId: 'c1', sid, accountSid: 'ACtest', from: '+1555', to: '8100', direction: 'inbound', startTime: new Date(0).toISOString() } : undefined),
    extraGet: (path) => (path === '/v1/trunks' ? { trunks: [] } : undefined),
    ready: () => ({ ready: true, detail: { esl: 'connected' } }),
  };
  const api = new ApiServer({
    host: '127.0.0.1', port: 0, token: TOKEN, twilio: { accountSid: 'ACtest', authToken: 'secret' },
    logger: createLogger({ level: 'debug', destination: dest }), metrics, backend, ...extra,
  });
  await api.listen();
  t.teardown(() => api.close());
  /** Fails the test when anything was logged as a server fault (error level, or with a stack). */
  const noServerFaultLogged = () => {
    const faults = lines.filter((l) => Number(l.level) >= 50 || 'err' in l || JSON.stringify(l).includes('stack'));
    t.same(faults, [], 'nothing logged at error level or with a stack');
  };
  return { port: api.port, metrics, lines, hungUp, originated, noServerFaultLogged };
}

interface RawResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed (FIN or reset) before the guard expired. */
  closed: boolean;
  /** Bytes the client managed to write before the server answered or closed. */
  written: number;
}

/**
 * Writes `parts` one after the other (stopping as soon as the server answers) and collects what
 * comes back until the server closes. `guardMs` only bounds a broken server; no assertion depends
 * on it.
 */
function raw(port: number, parts: (string | Buffer)[], guardMs = 5000): Promise<RawResult> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let written = 0;
    let closed = false;
    const finish = () => {
      clearTimeout(guard);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const [statusLine, ...fields] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const f of fields) {
        const i = f.indexOf(':');
        if (i > 0) headers[f.slice(0, i).trim().toLowerCase()] = f.slice(i + 1).trim();
      }
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
      resolve({ status, headers, body: split < 0 ? '' : text.slice(split + 4), closed, written });
    };
    const guard = setTimeout(finish, guardMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => { closed = true; }); // a reset after the answer still counts as closed
    s.on('close', () => { closed = true; finish(); });
    s.on('connect', async () => {
      for (const p of parts) {
        if (chunks.length > 0 || closed) break;
        const ok = await new Promise<boolean>((res) => s.write(p, (err) => res(!err)));
        if (!ok) break;
        written += Buffer.byteLength(p);
      }
    });
  });
}

const code = (r: RawResult) => (JSON.parse(r.body) as { error?: { code?: string } }).error?.code;

t.test('a malformed request target is 400 API_BAD_TARGET, with or without credentials', async (t) => {
  const { port, metrics, lines, hungUp, noServerFaultLogged } = await start(t);
  const targets = ['//[', '/healthz]', '/v1/calls/[c1]/hangup', '/v1/calls/c1/hangup#x', '/healthz?a[]=1', '*', 'http://[/healthz', 'http://x@y/healthz'];
  for (const target of targets) {
    for (const auth of ['', BEARER]) {
      const r = await raw(port, [`POST ${target} HTTP/1.1\r\nHost: a\r\n${auth}Content-Length: 0\r\nConnection: close\r\n\r\n`]);
      t.equal(r.status, 400, `${target} ${auth ? 'with' : 'without'} a token`);
      t.equal(code(r), 'API_BAD_TARGET', target);
    }
  }
  const get = await raw(port, ['GET //[ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
  t.equal(get.status, 400, 'GET //[');
  t.equal(metrics.errorCount('API_BAD_TARGET'), targets.length * 2 + 1);
  t.same(hungUp, []);
  t.ok(lines.some((l) => l.code === 'API_BAD_TARGET' && Number(l.level) <= 30), 'a debug/info line names the code');
  noServerFaultLogged();
});

const BAD_ESCAPES = ['%ZZ', '%E0%A4%A', '%C0%AF', '%', 'c%1', '%FF'];

t.test('without or with a wrong token: 401 before any percent-decoding', async (t) => {
  const { port, metrics, hungUp, noServerFaultLogged } = await start(t);
  for (const esc of BAD_ESCAPES) {
    for (const auth of ['', 'Authorization: Bearer nope\r\n', 'Authorization: Basic Zm9vOmJhcg==\r\n']) {
      const r = await raw(port, [`POST /v1/calls/${esc}/hangup HTTP/1.1\r\nHost: a\r\n${auth}Content-Length: 0\r\nConnection: close\r\n\r\n`]);
      t.equal(r.status, 401, `/v1/calls/${esc}/hangup`);
      t.equal(code(r), 'API_UNAUTHORIZED');
    }
    const wrongBasic = `Authorization: Basic ${Buffer.from('ACtest:wrong').toString('base64')}\r\n`;
    for (const auth of ['', wrongBasic]) {
      for (const path of [`/2010-04-01/Accounts/${esc}/Calls/${SID}.json`, `/2010-04-01/Accounts/ACtest/Calls/${esc}.json`]) {
        const r = await raw(port, [`GET ${path} HTTP/1.1\r\nHost: a\r\n${auth}Connection: close\r\n\r\n`]);
        t.equal(r.status, 401, path);
        t.match(JSON.parse(r.body), { code: 20003, status: 401 }, 'Twilio-shaped 401');
      }
    }
  }
  t.equal(metrics.errorCount('API_BAD_ESCAPE'), 0, 'nothing was decoded');
  t.same(hungUp, []);
  noServerFaultLogged();
});

t.test('once authenticated, a bad %-escape is 400 API_BAD_ESCAPE', async (t) => {
  const { port, metrics, hungUp, noServerFaultLogged } = await start(t);
  let n = 0;
  for (const esc of BAD_ESCAPES) {
    const v1 = await raw(port, [`POST /v1/calls/${esc}/hangup HTTP/1.1\r\nHost: a\r\n${BEARER}Content-Length: 0\r\nConnection: close\r\n\r\n`]);
    t.equal(v1.status, 400, `/v1/calls/${esc}/hangup`);
    t.equal(code(v1), 'API_BAD_ESCAPE');
    n++;
    for (const [method, path] of [
      ['POST', `/2010-04-01/Accounts/${esc}/Calls/${SID}.json`],
      ['GET', `/2010-04-01/Accounts/ACtest/Calls/${esc}.json`],
    ]) {
      const body = method === 'POST' ? 'Status=completed' : '';
      const r = await raw(port, [`${method} ${path} HTTP/1.1\r\nHost: a\r\n${BASIC}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`]);
      t.equal(r.status, 400, `${method} ${path}`);
      t.equal(code(r), 'API_BAD_ESCAPE');
      n++;
    }
  }
  t.equal(metrics.errorCount('API_BAD_ESCAPE'), n);
  t.same(hungUp, []);
  noServerFaultLogged();
});

t.test('well-formed escapes are decoded after authentication', async (t) => {
  const { port, hungUp } = await start(t);
  const r = await raw(port, [`POST /v1/calls/c%31/hangup HTTP/1.1\r\nHost: a\r\n${BEARER}Content-Length: 0\r\nConnection: close\r\n\r\n`]);
  t.equal(r.status, 200);
  t.same(JSON.parse(r.body), { callId: 'c1', status: 'ending' });
  const tw = await raw(port, [`GET /2010-04-01/Accounts/%41Ctest/Calls/${SID}.json HTTP/1.1\r\nHost: a\r\n${BASIC}Connection: close\r\n\r\n`]);
  t.equal(tw.status, 200);
  t.same(hungUp, ['c1']);
});

t.test('413: a Content-Length over the limit is answered at once and the connection closed', async (t) => {
  const { port, metrics, originated, hungUp, noServerFaultLogged } = await start(t);
  const declared = 10 * 1024 * 1024;
  const cases = [
    `POST /v1/calls HTTP/1.1\r\nHost: a\r\n${BEARER}Content-Type: application/json\r\n`,
    `POST /2010-04-01/Accounts/ACtest/Calls/${SID}.json HTTP/1.1\r\nHost: a\r\n${BASIC}Content-Type: application/x-www-form-urlencoded\r\n`,
  ];
  for (const head of cases) {
    // No `Connection: close` from the client, and only 1 KiB of the 10 MiB: the server must not
    // wait for the rest, must answer, and must close the connection itself.
    const r = await raw(port, [`${head}Content-Length: ${declared}\r\n\r\n`, Buffer.alloc(1024, 0x61)]);
    t.equal(r.status, 413);
    t.equal(code(r), 'API_BODY_TOO_LARGE');
    t.equal(r.headers.connection, 'close');
    t.ok(r.closed, 'the server closed the connection');
    t.ok(r.written < declared, 'without the client sending the whole body');
  }
  t.equal(metrics.errorCount('API_BODY_TOO_LARGE'), 2);
  t.same(originated, []);
  t.same(hungUp, []);
  noServerFaultLogged();
});

t.test('413: a chunked body over the limit is cut off as soon as it passes the limit', async (t) => {
  const { port, metrics, originated, noServerFaultLogged } = await start(t);
  const chunk = (n: number) => Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), Buffer.alloc(n, 0x20), Buffer.from('\r\n')]);
  // MAX_BODY_BYTES + 1 in 8 KiB chunks, and never the terminating 0-chunk.
  const parts: (string | Buffer)[] = [`POST /v1/calls HTTP/1.1\r\nHost: a\r\n${BEARER}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`];
  for (let left = MAX_BODY_BYTES + 1; left > 0; left -= 8192) parts.push(chunk(Math.min(8192, left)));
  const r = await raw(port, parts);
  t.equal(r.status, 413);
  t.equal(code(r), 'API_BODY_TOO_LARGE');
  t.equal(r.headers.connection, 'close');
  t.ok(r.closed, 'the server closed the connection');
  t.equal(metrics.errorCount('API_BODY_TOO_LARGE'), 1);
  t.same(originated, []);
  noServerFaultLogged();
});

t.test('a body within the limit still works', async (t) => {
  const { port, originated } = await start(t);
  const body = JSON.stringify({ to: '8100', bot: 'b' });
  const r = await raw(port, [`POST /v1/calls HTTP/1.1\r\nHost: a\r\n${BEARER}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`]);
  t.equal(r.status, 201);
  t.same(originated, [{ to: '8100', bot: 'b' }]);
});

t.test('HEAD answers like GET, without a body, on every GET route', async (t) => {
  const { port, noServerFaultLogged } = await start(t);
  const routes: [string, string][] = [
    ['/healthz', ''], ['/readyz', ''], ['/metrics', ''], ['/v1/calls', BEARER], ['/v1/trunks', BEARER],
    [`/2010-04-01/Accounts/ACtest/Calls/${SID}.json`, BASIC],
    ['/v1/calls', ''], ['/nope', ''],
  ];
  for (const [path, auth] of routes) {
    const get = await raw(port, [`GET ${path} HTTP/1.1\r\nHost: a\r\n${auth}Connection: close\r\n\r\n`]);
    const head = await raw(port, [`HEAD ${path} HTTP/1.1\r\nHost: a\r\n${auth}Connection: close\r\n\r\n`]);
    t.equal(head.status, get.status, `HEAD ${path} ${get.status}`);
    t.equal(head.headers['content-type'], get.headers['content-type'], `HEAD ${path} content-type`);
    if (path !== '/metrics') t.equal(head.headers['content-length'], get.headers['content-length'], `HEAD ${path} content-length`);
    t.ok(get.body.length > 0, `GET ${path} has a body`);
    t.equal(head.body, '', `HEAD ${path} has none`);
  }
  // A HEAD answer without a body keeps a keep-alive connection in step: the next response is parsed
  // right after the HEAD's header block.
  const both = await raw(port, ['HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
  t.equal(both.status, 200);
  t.match(both.body, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n\{"status":"ok"\}$/);
  noServerFaultLogged();
});

t.test('a request the HTTP parser rejects is 400 API_BAD_HTTP and the connection closed', async (t) => {
  const { port, metrics, noServerFaultLogged } = await start(t);
  const requests = [
    'GET /healthz HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n',
    'GET healthz HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n',
  ];
  for (const req of requests) {
    const r = await raw(port, [req]);
    t.equal(r.status, 400, JSON.stringify(req));
    t.equal(code(r), 'API_BAD_HTTP');
    t.ok(r.closed);
  }
  const big = await raw(port, [`GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`]);
  t.equal(big.status, 431, 'headers over 16 KiB');
  t.equal(metrics.errorCount('API_BAD_HTTP'), requests.length + 1);
  noServerFaultLogged();
});

// Short timeouts so the server's own timers expire during the test; the assertions are about what
// happens then, never about how long it took.
const SHORT = { timeouts: { headersMs: 200, requestMs: 300, keepAliveMs: 100, checkIntervalMs: 50 } };

t.test('headers that never end: 408 API_REQUEST_TIMEOUT and the connection closed', async (t) => {
  const { port, metrics, noServerFaultLogged } = await start(t, SHORT);
  const r = await raw(port, ['GET /healthz HTTP/1.1\r\nHost: a\r\n']);
  t.equal(r.status, 408);
  t.ok(r.closed);
  t.equal(metrics.errorCount('API_REQUEST_TIMEOUT'), 1);
  noServerFaultLogged();
});

t.test('a body that never ends: 408 API_REQUEST_TIMEOUT, nothing dispatched', async (t) => {
  const { port, metrics, originated, noServerFaultLogged } = await start(t, SHORT);
  const r = await raw(port, [`POST /v1/calls HTTP/1.1\r\nHost: a\r\n${BEARER}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"to":`]);
  t.equal(r.status, 408);
  t.ok(r.closed);
  t.equal(metrics.errorCount('API_REQUEST_TIMEOUT'), 1);
  t.same(originated, []);
  noServerFaultLogged();
});

t.test('an idle keep-alive connection is closed after the keep-alive timeout', async (t) => {
  const { port } = await start(t, SHORT);
  const r = await raw(port, ['GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n']);
  t.equal(r.status, 200);
  t.not(r.headers.connection, 'close', 'the answer kept the connection');
  t.ok(r.closed, 'closed by the server, not by the guard');
});

t.test('by default the server runs with the API_*_MS constants', async (t) => {
  const { port } = await start(t);
  t.ok(API_HEADERS_TIMEOUT_MS > 0 && API_HEADERS_TIMEOUT_MS <= API_REQUEST_TIMEOUT_MS, 'node requires headers <= request timeout');
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  await r.text();
  t.equal(r.headers.get('keep-alive'), `timeout=${API_KEEP_ALIVE_TIMEOUT_MS / 1000}`);
});
