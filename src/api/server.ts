import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { basicOk, decodePathSegment, parseRequestTarget, readBody, sendJson } from './http-util.js';
import { TWILIO_CALL_PATH, twilioCallResource, twilioNotFound, type TwilioCallView } from './twilio-rest.js';
import { getCall, listCalls, visibleCall, type CallRoutesBackend } from './call-routes.js';
import { sendRecording } from './recording-route.js';
import { metricsOfTenant } from '../observability/tenant-metrics.js';
import type { RecordingRead } from '../recordings/recordings.js';
import { accessRoute, tokenOnlyAccess, type AccessRoutesBackend, type ApiAccess } from './access-routes.js';
import { can, tenantScope, type Action } from '../tenants/roles.js';
import { campaignRoute, type CampaignRoutesBackend } from './campaign-routes.js';

const RECORDING_PATH = /^\/v1\/calls\/([^/]+)\/recording$/;

/** The /v1 collections and the verbs below an id: what an audited path keeps of itself. */
const AUDIT_WORDS = new Set(['calls', 'keys', 'subjects', 'tenants', 'audit', 'metrics', 'trunks', 'hangup', 'recording',
  'campaigns', 'pause', 'resume', 'cancel', 'contacts', 'export', 'dnc']);

/**
 * A /v1 path as the audit log writes it: known words kept, anything else (ids, a phone number,
 * a mistyped path) replaced by `{id}`, so no number reaches the log whatever was asked.
 */
function auditPath(path: string): string {
  return '/v1' + path.slice(3).split('/').map((s, i) => (i === 0 || AUDIT_WORDS.has(s) ? s : '{id}')).join('/');
}

/** What the API needs from the daemon; injected so the API has no knowledge of the parts. */
export interface ApiBackend extends CallRoutesBackend {
  /**
   * `POST /v1/calls` (JSON body): places an outbound call with a bot and trunk of `tenant` (null:
   * any); resolves the HTTP status and body.
   */
  originate?(body: unknown, tenant: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Hangs a call up; false when there is no such live call. */
  hangup(callId: string, endedBy: 'api'): Promise<boolean>;
  findTwilioCall(callSid: string): TwilioCallView | undefined;
  /**
   * `DELETE /v1/subjects/{number}`: removes every record of `tenant` (null: every tenant) from or
   * to that number (an erasure request).
   */
  eraseSubject?(number: string, tenant: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  /** `GET /v1/calls/{id}/recording`: the call's recording, decrypted (the route checked the tenant). */
  readRecording?(callId: string): Promise<RecordingRead>;
  /** Extra GET routes under /v1 (e.g. trunks), seen by `tenant` (null: all); return undefined when not handled. */
  extraGet?(path: string, tenant: string | null): unknown | undefined;
  /** Whether the daemon is ready to take calls (ESL connected, listeners up). */
  ready(): { ready: boolean; detail: Record<string, unknown> };
}

/**
 * How long a client may take to send a request line and headers, from its first byte (or from
 * connecting), in ms; then 408 API_REQUEST_TIMEOUT and the connection is closed. Slowloris bound.
 */
export const API_HEADERS_TIMEOUT_MS = 10_000;
/** How long a client may take to send a whole request (headers and a body of at most 64 KiB), in ms; then as above. */
export const API_REQUEST_TIMEOUT_MS = 30_000;
/** How long an idle keep-alive connection is kept after an answer, in ms; then it is closed quietly. */
export const API_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often node looks for requests past the headers or request timeout, in ms: their resolution. */
export const API_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** The HTTP server's timeouts, in ms; defaults are the `API_*_MS` constants. */
export interface ApiTimeouts {
  headersMs: number;
  /** Must be at least `headersMs`. */
  requestMs: number;
  keepAliveMs: number;
  checkIntervalMs: number;
}

export interface ApiServerOptions {
  host: string;
  port: number;
  token: string;
  twilio?: { accountSid: string; authToken: string };
  backend: ApiBackend;
  /** Who a request is (API keys, roles) and the audit log; without it only `token` is accepted, as an admin. */
  access?: ApiAccess;
  /** Tenants, keys, audit log routes. */
  accessBackend?: AccessRoutesBackend;
  /** Campaigns and do-not-call lists. */
  campaigns?: CampaignRoutesBackend;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Tests shorten these; the daemon uses the defaults. */
  timeouts?: Partial<ApiTimeouts>;
}

/**
 * The HTTP control API: `/v1` (bearer token), the Twilio-compatible hang-up, `/healthz`,
 * `/readyz` and `/metrics` (Prometheus, no auth; bind to loopback). listen() / close().
 *
 * Every GET route answers HEAD too. Client faults are 4xx answers with a code from
 * `error-codes.ts`, a `fsbridge_errors_total` count and a debug line, never an error-level log:
 * a target that is not RFC 3986 is 400 API_BAD_TARGET before authentication; path segments are
 * percent-decoded only after it (else 400 API_BAD_ESCAPE); a body over 64 KiB (32 MiB for
 * `POST /v1/campaigns` and `/v1/dnc`: contact lists) is 413 and the connection closed unread; a
 * slow client gets 408 (see `API_*_TIMEOUT_MS`: the whole body must arrive within the request
 * timeout).
 */
export class ApiServer {
  private server: Server | null = null;
  /** Responses not yet sent: on close they go out with `Connection: close`. */
  private readonly inFlight = new Set<ServerResponse>();
  port = 0;
  constructor(private readonly opts: ApiServerOptions) {}

  async listen(): Promise<void> {
    const t = this.opts.timeouts ?? {};
    const server = createServer({
      headersTimeout: t.headersMs ?? API_HEADERS_TIMEOUT_MS,
      requestTimeout: t.requestMs ?? API_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: t.keepAliveMs ?? API_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: t.checkIntervalMs ?? API_TIMEOUT_CHECK_INTERVAL_MS,
    }, (req, res) => {
      this.inFlight.add(res);
      res.once('close', () => this.inFlight.delete(res));
      if (!this.server) res.shouldKeepAlive = false;
      this.handle(req, res).catch((err) => {
        this.opts.logger.error({ err }, 'api handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops listening; answers the requests in flight (bounded: 2 s), then closes. Safe to call twice. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    // Requests in flight (e.g. a POST /v1/calls whose dial the shutdown just ended) get their
    // answer: idle connections close now, busy ones at most 2 s later.
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const res of this.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    s.closeIdleConnections();
    const force = setTimeout(() => s.closeAllConnections(), 2000);
    force.unref();
    await closed;
    clearTimeout(force);
  }

  /**
   * Node's own rejections (it replaces node's default answer): a request the parser refused, or
   * one past the headers/request timeout. Anything else (a reset) only closes the socket.
   */
  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const code = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'API_REQUEST_TIMEOUT' : err.code?.startsWith('HPE_') ? 'API_BAD_HTTP' : null;
    if (code) {
      const status = code === 'API_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      this.opts.metrics.error(code);
      this.opts.logger.debug({ code, status, reason: err.code }, 'api request rejected');
      // As node does: answer only if no answer to this connection's request has begun.
      const pending = [...this.inFlight].find((r) => r.socket === socket);
      if (socket.writable && !pending?.headersSent) {
        const body = JSON.stringify({ error: { code, message: STATUS_CODES[status] } });
        socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n`
          + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    }
    socket.destroy();
  }

  /** A client fault: counted under `code`, logged at debug without a stack, answered in JSON. */
  private fail(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
    this.opts.metrics.error(code);
    this.opts.logger.debug({ code, status, method: req.method }, 'api request rejected');
    sendJson(res, status, { error: { code, message, ...extra } });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requested = req.method ?? 'GET';
    this.opts.metrics.counter('fsbridge_api_requests_total', 'HTTP API requests').inc({ method: requested });
    // HEAD is GET without a body (RFC 9110 §9.3.2); node drops what is written for HEAD.
    const method = requested === 'HEAD' ? 'GET' : requested;
    const target = parseRequestTarget(req.url ?? '');
    if (!target) return this.fail(req, res, 400, 'API_BAD_TARGET', 'the request target is not a valid path');
    // Routes match the raw path; segments are decoded only once the request is authenticated.
    const path = target.path;

    if (method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (method === 'GET' && path === '/readyz') {
      const r = this.opts.backend.ready();
      return sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...r.detail });
    }
    if (method === 'GET' && path === '/metrics') {
      const text = await this.opts.metrics.renderAll();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(text);
      return;
    }
    const tw = TWILIO_CALL_PATH.exec(path);
    if (tw) return this.twilioCall(req, res, method, tw[1], tw[2], path);

    if (path.startsWith('/v1/')) return this.v1(req, res, method, path, target.query);
    return this.fail(req, res, 404, 'API_NOT_FOUND', `no route ${method} ${path}`);
  }

  /**
   * `/v1`: the caller is authenticated (api.token or an API key), then each route checks the
   * role's right and the tenant: another tenant's call, key or trunk is answered 404, like one
   * that does not exist. Every request that changes something is written to the audit log.
   */
  private async v1(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string): Promise<void> {
    const access = this.opts.access ?? tokenOnlyAccess(this.opts.token);
    const auth = await access.authenticate(req.headers.authorization);
    if (!auth.ok) {
      if (auth.status === 503) return this.fail(req, res, 503, 'API_STORE_UNAVAILABLE', 'cannot check the key: the store is not reachable');
      this.opts.logger.debug({ reason: auth.reason }, 'api key refused');
      return this.fail(req, res, 401, 'API_UNAUTHORIZED', 'a valid bearer token or API key is required');
    }
    const p = auth.principal;
    const fail = (status: number, code: string, message: string, extra?: Record<string, unknown>) => this.fail(req, res, status, code, message, extra);
    // listening to a recording, and exports full of phone numbers, are audited too: who read what
    if (method !== 'GET' || RECORDING_PATH.test(path) || /^\/v1\/campaigns\/[^/]+\/export$/.test(path) || (path === '/v1/dnc' && /(^|&)format=csv(&|$)/.test(query))) {
      // what the request changed (or which recording was read), and how it was answered (after
      // the answer is known); ids replaced by {id}; a subject's number is never written (not even as the target)
      const action = `${method} ${auditPath(path)}`;
      const target = /^\/v1\/(?:calls|keys|campaigns)\/([^/]+)/.exec(path)?.[1] ?? null;
      // on close, not finish: a client that leaves before the answer is audited too (499, the
      // change may still have been made)
      res.once('close', () => access.audit(p, action, target && decodePathSegment(target), res.headersSent ? res.statusCode : 499));
    }
    const allowed = (a: Action) => { if (can(p, a)) return true; fail(403, 'API_FORBIDDEN', `the ${p.role} role may not do this`); return false; };
    const scope = tenantScope(p);
    if (method === 'GET' && path === '/v1/metrics') {
      if (!allowed('metrics:read')) return;
      // an admin sees everything /metrics shows; a tenant's key only its tenant's series
      const text = await this.opts.metrics.renderAll();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(scope === null ? text : metricsOfTenant(text, scope));
      return;
    }
    if (method === 'GET' && path === '/v1/calls') return allowed('calls:read') ? listCalls(res, query, p, this.opts.backend, fail) : undefined;
    const cm = /^\/v1\/calls\/([^/]+)$/.exec(path);
    if (method === 'GET' && cm) {
      const callId = decodePathSegment(cm[1]);
      if (callId === null) return this.fail(req, res, 400, 'API_BAD_ESCAPE', 'malformed %-escape in the call id');
      return allowed('calls:read') ? getCall(res, callId, p, this.opts.backend, fail) : undefined;
    }
    const rm = RECORDING_PATH.exec(path);
    if (method === 'GET' && rm && this.opts.backend.readRecording) {
      const callId = decodePathSegment(rm[1]);
      if (callId === null) return this.fail(req, res, 400, 'API_BAD_ESCAPE', 'malformed %-escape in the call id');
      return allowed('calls:read') ? sendRecording(res, callId, p, this.opts.backend, this.opts.backend.readRecording, fail) : undefined;
    }
    if (method === 'POST' && path === '/v1/calls' && this.opts.backend.originate) {
      if (!allowed('calls:write')) return;
      const body = await this.jsonBody(req, res);
      if (body === null) return;
      const r = await this.opts.backend.originate(body, scope);
      if (r.status >= 400) this.opts.metrics.error(String((r.body.error as { code?: string } | undefined)?.code ?? 'API_BAD_REQUEST'));
      return sendJson(res, r.status, r.body);
    }
    const hm = /^\/v1\/calls\/([^/]+)\/hangup$/.exec(path);
    if (method === 'POST' && hm) {
      const callId = decodePathSegment(hm[1]);
      if (callId === null) return this.fail(req, res, 400, 'API_BAD_ESCAPE', 'malformed %-escape in the call id');
      if (!allowed('calls:write')) return;
      // another tenant's call is not found, as a call that does not exist
      if (scope !== null) {
        const seen = await visibleCall(callId, p, this.opts.backend);
        if (seen === 'unavailable') return this.fail(req, res, 503, 'API_STORE_UNAVAILABLE', 'the call store is not reachable');
        if (!seen) return this.fail(req, res, 404, 'API_NOT_FOUND', 'no such live call');
      }
      const ok = await this.opts.backend.hangup(callId, 'api');
      if (!ok) return this.fail(req, res, 404, 'API_NOT_FOUND', 'no such live call');
      return sendJson(res, 200, { callId, status: 'ending' });
    }
    const sm = /^\/v1\/subjects\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && sm && this.opts.backend.eraseSubject) {
      const number = decodePathSegment(sm[1]);
      if (number === null) return this.fail(req, res, 400, 'API_BAD_ESCAPE', 'malformed %-escape in the number');
      if (!allowed('subjects:erase')) return;
      const asked = new URLSearchParams(query).get('tenant');
      // an admin may name one tenant; a tenant's key erases from its own tenant only
      let r: { status: number; body: Record<string, unknown> };
      try { r = await this.opts.backend.eraseSubject(number, scope ?? asked); } catch {
        return fail(503, 'API_STORE_UNAVAILABLE', 'the store is not reachable');
      }
      if (r.status >= 400) this.opts.metrics.error(String((r.body.error as { code?: string } | undefined)?.code ?? 'API_BAD_REQUEST'));
      return sendJson(res, r.status, r.body);
    }
    if (this.opts.campaigns) {
      let handled: boolean;
      try {
        handled = await campaignRoute(method, path, query, p, res, this.opts.campaigns,
          async (limit) => this.jsonBody(req, res, limit), fail, decodePathSegment);
      } catch (err) {
        if (res.headersSent) { res.destroy(); return; }
        this.opts.logger.warn({ err }, 'store request of the API failed');
        return fail(503, 'API_STORE_UNAVAILABLE', 'the store is not reachable');
      }
      if (handled) return;
    }
    if (this.opts.accessBackend) {
      let handled: boolean;
      try {
        handled = await accessRoute(method, path, query, p, res, this.opts.accessBackend,
          async () => this.jsonBody(req, res) as Promise<Record<string, unknown> | null>, fail, decodePathSegment);
      } catch (err) {
        // tenants, keys and the audit log are read and written in the store: it went away
        if (res.headersSent) { res.destroy(); return; }
        this.opts.logger.warn({ err }, 'store request of the API failed');
        return fail(503, 'API_STORE_UNAVAILABLE', 'the store is not reachable');
      }
      if (handled) return;
    }
    if (method === 'GET') {
      const extra = this.opts.backend.extraGet?.(path, scope);
      if (extra !== undefined) return allowed('trunks:read') ? sendJson(res, 200, extra) : undefined;
    }
    return this.fail(req, res, 404, 'API_NOT_FOUND', `no route ${method} ${path}`);
  }

  /** A JSON object body, or null when the request was answered (too large, not JSON, aborted). */
  private async jsonBody(req: IncomingMessage, res: ServerResponse, limitBytes?: number): Promise<Record<string, unknown> | null> {
    const read = await readBody(req, limitBytes);
    if (read.kind === 'aborted') { this.aborted(req); return null; }
    if (read.kind === 'too-large') { this.fail(req, res, 413, 'API_BODY_TOO_LARGE', 'body too large'); return null; }
    let body: unknown;
    try { body = JSON.parse(read.text || '{}'); } catch { this.fail(req, res, 400, 'API_BAD_REQUEST', 'the body must be JSON'); return null; }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) { this.fail(req, res, 400, 'API_BAD_REQUEST', 'the body must be a JSON object'); return null; }
    return body as Record<string, unknown>;
  }

  /** The client left (or timed out) before sending its whole body: nothing to answer. */
  private aborted(req: IncomingMessage): void {
    this.opts.logger.debug({ method: req.method }, 'api request aborted by the client');
  }

  private twilioUnauthorized(req: IncomingMessage, res: ServerResponse): void {
    this.opts.metrics.error('API_UNAUTHORIZED');
    this.opts.logger.debug({ code: 'API_UNAUTHORIZED', status: 401, method: req.method }, 'api request rejected');
    sendJson(res, 401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
  }

  /** `method` is 'GET' for HEAD too; the SIDs are the raw (still percent-encoded) path segments. */
  private async twilioCall(req: IncomingMessage, res: ServerResponse, method: string, rawAccountSid: string, rawCallSid: string, path: string) {
    const tw = this.opts.twilio;
    // Credentials first: nothing from the path is decoded for a client that is not authenticated.
    if (!tw || !basicOk(req, tw.accountSid, tw.authToken)) return this.twilioUnauthorized(req, res);
    const accountSid = decodePathSegment(rawAccountSid);
    const callSid = decodePathSegment(rawCallSid);
    if (accountSid === null || callSid === null) return this.fail(req, res, 400, 'API_BAD_ESCAPE', 'malformed %-escape in the path');
    if (accountSid !== tw.accountSid) return this.twilioUnauthorized(req, res);
    const call = this.opts.backend.findTwilioCall(callSid);
    if (method === 'GET') {
      if (!call) return sendJson(res, 404, twilioNotFound(path));
      return sendJson(res, 200, twilioCallResource(call, 'in-progress'));
    }
    if (method !== 'POST') return this.fail(req, res, 405, 'API_BAD_REQUEST', 'method not allowed');
    const read = await readBody(req);
    if (read.kind === 'aborted') return this.aborted(req);
    if (read.kind === 'too-large') return this.fail(req, res, 413, 'API_BODY_TOO_LARGE', 'body too large');
    const form = new URLSearchParams(read.text);
    const status = form.get('Status');
    if (status !== 'completed' && status !== 'canceled') {
      return sendJson(res, 400, { code: 21218, message: 'Only Status=completed is supported', status: 400 });
    }
    if (!call) return sendJson(res, 404, twilioNotFound(path));
    const ok = await this.opts.backend.hangup(call.callId, 'api');
    if (!ok) return sendJson(res, 404, twilioNotFound(path));
    return sendJson(res, 200, twilioCallResource(call, 'completed'));
  }
}
