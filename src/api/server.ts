import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { basicOk, bearerOk, readBody, sendJson } from './http-util.js';
import { TWILIO_CALL_PATH, twilioCallResource, twilioNotFound, type TwilioCallView } from './twilio-rest.js';

/** What the API needs from the daemon; injected so the API has no knowledge of the parts. */
export interface ApiBackend {
  listCalls(): Record<string, unknown>[];
  /** `POST /v1/calls` (JSON body): places an outbound call; resolves the HTTP status and body. */
  originate?(body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Hangs a call up; false when there is no such live call. */
  hangup(callId: string, endedBy: 'api'): Promise<boolean>;
  findTwilioCall(callSid: string): TwilioCallView | undefined;
  /** Extra GET routes under /v1 (e.g. trunks); return undefined when not handled. */
  extraGet?(path: string): unknown | undefined;
  /** Whether the daemon is ready to take calls (ESL connected, listeners up). */
  ready(): { ready: boolean; detail: Record<string, unknown> };
}

export interface ApiServerOptions {
  host: string;
  port: number;
  token: string;
  twilio?: { accountSid: string; authToken: string };
  backend: ApiBackend;
  logger: Logger;
  metrics: MetricsRegistry;
}

/**
 * The HTTP control API: `/v1` (bearer token), the Twilio-compatible hang-up, `/healthz`,
 * `/readyz` and `/metrics` (Prometheus, no auth; bind to loopback). listen() / close().
 */
export class ApiServer {
  private server: Server | null = null;
  /** Responses not yet sent: on close they go out with `Connection: close`. */
  private readonly inFlight = new Set<ServerResponse>();
  port = 0;
  constructor(private readonly opts: ApiServerOptions) {}

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.inFlight.add(res);
      res.once('close', () => this.inFlight.delete(res));
      if (!this.server) res.shouldKeepAlive = false;
      this.handle(req, res).catch((err) => {
        this.opts.logger.error({ err }, 'api handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
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

  private fail(res: ServerResponse, status: number, code: string, message: string): void {
    this.opts.metrics.error(code);
    sendJson(res, status, { error: { code, message } });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    this.opts.metrics.counter('fsbridge_api_requests_total', 'HTTP API requests').inc({ method });

    if (method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (method === 'GET' && path === '/readyz') {
      const r = this.opts.backend.ready();
      return sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', ...r.detail });
    }
    if (method === 'GET' && path === '/metrics') {
      const text = this.opts.metrics.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(text);
      return;
    }
    const tw = TWILIO_CALL_PATH.exec(path);
    if (tw) return this.twilioCall(req, res, decodeURIComponent(tw[1]), decodeURIComponent(tw[2]), path);

    if (path.startsWith('/v1/')) {
      if (!bearerOk(req, this.opts.token)) return this.fail(res, 401, 'API_UNAUTHORIZED', 'bearer token required');
      if (method === 'GET' && path === '/v1/calls') return sendJson(res, 200, { calls: this.opts.backend.listCalls() });
      if (method === 'POST' && path === '/v1/calls' && this.opts.backend.originate) {
        const text = await readBody(req);
        if (text === null) return this.fail(res, 413, 'API_BODY_TOO_LARGE', 'body too large');
        let body: unknown;
        try { body = JSON.parse(text || '{}'); } catch { return this.fail(res, 400, 'API_BAD_REQUEST', 'the body must be JSON'); }
        const r = await this.opts.backend.originate(body);
        if (r.status >= 400) this.opts.metrics.error(String((r.body.error as { code?: string } | undefined)?.code ?? 'API_BAD_REQUEST'));
        return sendJson(res, r.status, r.body);
      }
      const hm = /^\/v1\/calls\/([^/]+)\/hangup$/.exec(path);
      if (method === 'POST' && hm) {
        const ok = await this.opts.backend.hangup(decodeURIComponent(hm[1]), 'api');
        if (!ok) return this.fail(res, 404, 'API_NOT_FOUND', 'no such live call');
        return sendJson(res, 200, { callId: hm[1], status: 'ending' });
      }
      if (method === 'GET') {
        const extra = this.opts.backend.extraGet?.(path);
        if (extra !== undefined) return sendJson(res, 200, extra);
      }
    }
    return this.fail(res, 404, 'API_NOT_FOUND', `no route ${method} ${path}`);
  }

  private async twilioCall(req: IncomingMessage, res: ServerResponse, accountSid: string, callSid: string, path: string) {
    const tw = this.opts.twilio;
    if (!tw || accountSid !== tw.accountSid || !basicOk(req, tw.accountSid, tw.authToken)) {
      this.opts.metrics.error('API_UNAUTHORIZED');
      return sendJson(res, 401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    }
    const call = this.opts.backend.findTwilioCall(callSid);
    if (req.method === 'GET') {
      if (!call) return sendJson(res, 404, twilioNotFound(path));
      return sendJson(res, 200, twilioCallResource(call, 'in-progress'));
    }
    if (req.method !== 'POST') return this.fail(res, 405, 'API_BAD_REQUEST', 'method not allowed');
    const body = await readBody(req);
    if (body === null) return this.fail(res, 413, 'API_BODY_TOO_LARGE', 'body too large');
    const form = new URLSearchParams(body);
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
