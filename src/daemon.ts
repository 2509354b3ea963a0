import { randomUUID } from 'node:crypto';
import type { Logger } from './observability/logger.js';
import { MetricsRegistry } from './observability/metrics.js';
import { LogLimiter } from './observability/log-limiter.js';
import { CountingClock, systemClock, type Clock } from './clock.js';
import type { Config, DeepReadonly } from './config/schema.js';
import { FsbridgeError } from './errors.js';
import { EslControl } from './esl/control.js';
import { OutboundSocketServer } from './esl/outbound-server.js';
import type { OutboundSession } from './esl/outbound-session.js';
import type { FsEvent } from './esl/events.js';
import { MediaServer } from './media/server.js';
import { ApiServer } from './api/server.js';
import { CallManager } from './calls/call-manager.js';
import { JsonlRecordFile, fanOut, type CallRecord } from './calls/call-record.js';
import { Store, withPassword } from './store/store.js';
import { StoreWriter, batchMaxFor } from './store/writer.js';
import { StoreCallSink } from './store/call-sink.js';
import { parseStoreUrl } from './config/store-url.js';
import { CallHistory } from './store/call-history.js';
import { callsSince, eraseSubject, numberForms } from './store/access.js';
import { AccessService } from './tenants/access-service.js';
import { StatusCallbacks, type CallbackTarget } from './webhooks/status-callbacks.js';
import { WebhookDeliverer } from './webhooks/deliverer.js';
import { Recordings } from './recordings/recordings.js';
import { RecordedLeg } from './recordings/recorded-leg.js';
import { hostname } from 'node:os';
import { CallSupervisor, type SupervisedLeg, type SupervisorDeps } from './calls/call-supervisor.js';
import { causeFromName } from './calls/hangup-causes.js';
import { sessionChannel } from './calls/session-channel.js';
import type { Call } from './calls/call.js';
import { MediaLeg, type MediaLegSpec } from './calls/media-leg.js';
import { MediaWorkerPool } from './media-workers/pool.js';
import { availableParallelism } from 'node:os';
import { preparePipeDir } from './media/fifo.js';
import { exotelCallSid, hex32, twilioCallSid } from './bots/sids.js';
import { parseHostPort } from './config/formats.js';
import { SipSignalling } from './sip-signalling.js';
import type { DialRequest, DialResult, FreeswitchLegRequest } from './sip/outbound.js';
import { Campaigns } from './campaigns/campaigns.js';
import type { CampaignDial } from './campaigns/dialer.js';
import type { OutcomeFacts } from './campaigns/outcome.js';
import { parseAmdRequest } from './analysis/amd-request.js';
import { promptProblem } from './calls/prompt-audio.js';
import { ClusterNode, HEARTBEAT_MS, registrarApplicationName } from './cluster/cluster-node.js';
import { RegistrarLease } from './cluster/registrar-lease.js';
import type { CallOffer } from './calls/call.js';

export interface DaemonOptions {
  config: DeepReadonly<Config>;
  logger: Logger;
  metrics?: MetricsRegistry;
  clock?: Clock;
}

/** Ports actually bound (useful when the configuration says port 0). */
export interface DaemonPorts {
  outboundSocket: number;
  /** The media server's port (with media workers: worker 0's). */
  media: number;
  api: number;
  /** With media workers: each worker's media port. */
  mediaWorkers?: number[];
}

/** A validated `host:port` (port 0 allowed) from the configuration. */
function hostPort(s: string): { host: string; port: number } {
  const hp = parseHostPort(s, 0);
  if (!hp) throw new FsbridgeError('CONFIG_INVALID', `not a host:port: ${s}`);
  return hp;
}

/**
 * Wires the parts of fsbridge. Lifecycle: `start()` binds every listener and starts the ESL control
 * connection; `ready` resolves when FreeSWITCH accepted the control connection (rejects with
 * ESL_AUTH_FAILED / ESL_ACL_REJECTED, which are fatal); `close()` drains calls up to
 * calls.drainTimeoutMs, hangs up the rest, closes everything and flushes call records. close() is
 * idempotent. Testable in one process: nothing here touches `process`.
 *
 * Each call is owned by one {@link CallSupervisor} (src/calls/call-supervisor.ts), created when the
 * call is offered; the daemon only routes what happens (a socket connection, a SIP end, a dial's
 * outcome, a control-connection event) to the call's supervisor.
 */
export class Daemon {
  readonly metrics: MetricsRegistry;
  readonly calls: CallManager;
  readonly ready: Promise<void>;
  /** Rejects once with a fatal FsbridgeError (ESL_AUTH_FAILED ...); never resolves. */
  readonly fatal: Promise<never>;
  private readonly clock: Clock;
  /**
   * Per-message warnings of every call's playback (too many marks, overflow, ...): counted each
   * time, logged at most once per 10 s per code for the whole daemon (a bot fault on 100 calls
   * must not write 100 lines every 10 s).
   */
  private readonly callLogs: LogLimiter;
  /** The same clock, counting the timers it holds (for /metrics). */
  private readonly timers: CountingClock;
  private readonly log: Logger;
  /** The optional JSON-lines file of ended calls (calls.recordFile). */
  private readonly recordFile: JsonlRecordFile | null;
  /** The database; opened by start(). */
  private store: Store | null = null;
  private readonly storeWriter: StoreWriter;
  /** This node's name in the store (store.nodeId or the host name). */
  readonly nodeId: string;
  private readonly history: CallHistory;
  /** Tenants, API keys, roles, audit log. */
  private readonly access: AccessService;
  /** Status callbacks: written to the outbox with each call's events, sent by the deliverer. */
  private readonly callbacks: StatusCallbacks;
  private readonly deliverer: WebhookDeliverer;
  /** Encrypted call recordings: keys, rows, reading back, retention. */
  private readonly recordings: Recordings;
  private readonly campaigns: Campaigns;
  /** Calls whose bot already asked for `dnc`. */
  private readonly dncAsked = new WeakSet<Call>();
  /** Recordings whose rows are being completed (awaited before the store closes). */
  private readonly finishing = new Set<Promise<void>>();
  private stopHeartbeat: (() => void) | null = null;
  /** This node's part in a cluster (config `cluster`); null for a lone node. */
  private readonly cluster: ClusterNode | null;
  /** Which node of a cluster registers the trunks (null: a lone node, which registers them itself). */
  private readonly registrarLease: RegistrarLease | null;
  private readonly control: EslControl;
  private readonly outbound: OutboundSocketServer;
  /** The media loop: in this thread (media.workers 0) or in worker threads. */
  private readonly media: MediaServer | null;
  private readonly workers: MediaWorkerPool | null;
  /** The media worker threads, or null when the media loop runs in this thread (media.workers 0). */
  get mediaWorkers(): MediaWorkerPool | null { return this.workers; }
  private readonly api: ApiServer;
  private readonly sip: SipSignalling | null;
  /** Every live call's owner, by call id and (once its channel is known) by FreeSWITCH uuid. */
  private readonly supervisors = new Map<string, CallSupervisor>();
  private readonly byUuid = new Map<string, CallSupervisor>();
  private readonly accountSid: string;
  private mediaUrlBase = '';
  private closing: Promise<void> | null = null;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private rejectFatal!: (e: Error) => void;
  ports: DaemonPorts = { outboundSocket: 0, media: 0, api: 0 };
  /** The running configuration: bots and log level change on reload(). */
  private config: DeepReadonly<Config>;

  constructor(private readonly opts: DaemonOptions) {
    const cfg = opts.config;
    this.config = cfg;
    this.timers = new CountingClock(opts.clock ?? systemClock);
    this.clock = this.timers;
    this.callLogs = new LogLimiter({ clock: this.clock });
    this.metrics = opts.metrics ?? new MetricsRegistry();
    this.log = opts.logger;
    this.ready = new Promise((res, rej) => { this.resolveReady = res; this.rejectReady = rej; });
    this.ready.catch(() => {});
    this.fatal = new Promise<never>((_res, rej) => { this.rejectFatal = rej; });
    this.fatal.catch(() => {});
    this.accountSid = cfg.api.twilio?.accountSid ?? 'AC' + hex32('fsbridge-account');
    this.recordFile = cfg.calls.recordFile
      ? new JsonlRecordFile(cfg.calls.recordFile, (err) => {
        this.metrics.error('CALL_RECORD_WRITE_FAILED');
        this.log.error({ err, code: 'CALL_RECORD_WRITE_FAILED' }, 'cannot write call record');
      })
      : null;
    this.nodeId = cfg.store.nodeId ?? hostname();
    this.storeWriter = new StoreWriter({
      sink: {
        apply: (ops) => this.openStore().apply(ops),
        ping: () => this.openStore().ping(),
      },
      clock: this.clock, logger: this.log.child({ component: 'store' }), metrics: this.metrics, queueMax: cfg.store.queueMax,
      batchMax: batchMaxFor(cfg.store.url.startsWith('sqlite:') ? 'sqlite' : 'postgres'),
    });
    this.history = new CallHistory(() => this.openStore(), () => this.calls.list().map((c) => c.toJSON()));
    const storeSink = new StoreCallSink(this.storeWriter, this.nodeId);
    this.access = new AccessService({
      adminToken: cfg.api.token, tenants: () => this.config.tenants, store: () => this.openStore(), writer: this.storeWriter, clock: this.clock,
    });
    this.calls = new CallManager({
      maxConcurrent: cfg.calls.maxConcurrent, logger: this.log, metrics: this.metrics, clock: this.clock,
      records: this.recordFile ? fanOut([storeSink, this.recordFile]) : storeSink,
      tenantOf: (bot) => (bot === null ? 'default' : this.botTenant(bot) ?? 'default'),
      limitsOf: (tenant) => this.access.tenant(tenant),
    });
    this.callbacks = new StatusCallbacks({
      targets: (call) => this.callbackTargets(call), writer: this.storeWriter, nodeId: this.nodeId, clock: this.clock, accountSid: this.accountSid,
    });
    this.calls.on('call', (call) => this.callbacks.track(call));
    this.deliverer = new WebhookDeliverer({
      store: () => this.openStore(), nodeId: this.nodeId, clock: this.clock, logger: this.log.child({ component: 'webhooks' }), metrics: this.metrics,
    });
    this.recordings = new Recordings({
      config: () => this.config, store: () => this.openStore(), writer: this.storeWriter, nodeId: this.nodeId,
      clock: this.clock, logger: this.log.child({ component: 'recordings' }), metrics: this.metrics,
    });
    this.cluster = cfg.cluster
      ? new ClusterNode({
        nodeId: this.nodeId, leaseMs: cfg.cluster.leaseSec * 1000, store: () => this.openStore(), writer: this.storeWriter,
        clock: this.clock, logger: this.log.child({ component: 'cluster' }), metrics: this.metrics,
        adoptAttempts: (node) => this.campaigns.dialer.adopt(node),
      })
      : null;
    this.registrarLease = cfg.cluster && cfg.drachtio
      ? new RegistrarLease({
        connectionString: withPassword(cfg.store.url, cfg.store.password), retryMs: Math.min(2000, this.cluster!.heartbeatMs),
        applicationName: registrarApplicationName(this.nodeId),
        // a node whose drachtio-server is away could not register: it leaves the lease to another
        eligible: () => this.sip?.connected ?? false,
        clock: this.clock, logger: this.log.child({ component: 'cluster' }), metrics: this.metrics,
      })
      : null;
    this.campaigns = new Campaigns({
      db: () => this.openStore().db, writer: this.storeWriter, nodeId: this.nodeId, clock: this.clock,
      ...(cfg.cluster ? { lease: { ms: cfg.cluster.leaseSec * 1000, skipLocked: true } } : {}),
      logger: this.log.child({ component: 'campaigns' }), metrics: this.metrics,
      port: {
        blocked: (c) => this.campaignBlocked(c),
        numberCap: (tenant) => (Object.prototype.hasOwnProperty.call(this.config.tenants, tenant) ? this.config.tenants[tenant].callsPerNumberPerDay ?? null : null),
        dial: (d) => this.placeCampaignCall(d),
      },
      botTenant: (name) => this.botTenant(name), trunkTenant: (name) => this.trunkTenant(name),
      cannotDial: () => (this.sip ? null : 'drachtio: not configured, so fsbridge cannot place campaign calls'),
      hookTargets: (tenant, bot) => this.campaignHookTargets(tenant, bot),
      callParty: (callId) => this.callParty(callId),
    });
    // a call that ends frees a slot a waiting campaign may take
    this.calls.on('call', (call) => call.once('ended', () => this.campaigns.dialer.wake()));
    const esl = cfg.freeswitch.esl;
    this.control = new EslControl({
      host: esl.host, port: esl.port, password: esl.password, logger: this.log.child({ component: 'esl' }),
      metrics: this.metrics, clock: this.clock, commandTimeoutMs: esl.commandTimeoutMs,
      connectTimeoutMs: esl.connectTimeoutMs, backoff: { ...esl.reconnect },
    });
    const ob = cfg.freeswitch.outboundSocket;
    this.outbound = new OutboundSocketServer({
      host: ob.host, port: ob.port, handshakeTimeoutMs: ob.handshakeTimeoutMs, commandTimeoutMs: esl.commandTimeoutMs,
      logger: this.log.child({ component: 'outbound' }), metrics: this.metrics, clock: this.clock,
    });
    const ml = hostPort(cfg.media.listen);
    const workerCount = cfg.media.workers === 'auto' ? availableParallelism() : cfg.media.workers;
    if (workerCount > 0) {
      const adv = hostPort(cfg.media.advertise);
      this.media = null;
      this.workers = new MediaWorkerPool({
        count: workerCount, host: ml.host, port: ml.port, advertiseHost: adv.port === 0 ? ml.host : adv.host, advertisePort: adv.port,
        maxMessageBytes: cfg.media.maxMessageBytes, pipeDir: cfg.freeswitch.playback === 'pipe' ? cfg.media.pipeDir : null,
        control: this.control, logger: this.log.child({ component: 'media' }), metrics: this.metrics, clock: this.clock,
      });
    } else {
      this.workers = null;
      this.media = new MediaServer({
        host: ml.host, port: ml.port, maxMessageBytes: cfg.media.maxMessageBytes,
        logger: this.log.child({ component: 'media' }), metrics: this.metrics, clock: this.clock,
      });
    }
    this.sip = cfg.drachtio
      ? new SipSignalling({
        drachtio: cfg.drachtio, trunks: cfg.trunks, routes: cfg.routes, answerTimeoutMs: cfg.calls.answerTimeoutMs,
        logger: this.log, metrics: this.metrics, clock: this.clock,
        admit: async (req) => {
          const adm = await this.admitCall({ callId: req.callId, fsUuid: '', direction: 'inbound', bot: req.bot, from: req.from, to: req.to, params: { trunk: req.trunk }, record: req.record, route: req.route });
          if (adm.ok) return { ok: true };
          return { ok: false, reason: adm.code === 'CALL_DRAINING' ? 'draining' : adm.code === 'CALL_OVER_CAPACITY' || adm.code === 'CLUSTER_LIMITS_UNAVAILABLE' ? 'capacity' : 'tenant-limit' };
        },
        // a node of a cluster that cannot reach the store refuses every call: it says so to the load balancer
        accepting: () => this.control.connected && !this.calls.isDraining && this.calls.size < this.config.calls.maxConcurrent && (this.cluster?.healthy ?? true),
        freeswitch: {
          originate: (r) => this.originateFreeswitchLeg(r),
          kill: (fsUuid, cause) => { void this.control.uuidKill(fsUuid, cause); },
        },
        onCallEnded: (e) => this.supervisors.get(e.callId)?.sipEnded(e),
        onRinging: (callId) => this.callbacks.ringing(callId),
        ...(this.registrarLease ? { registrar: { lease: this.registrarLease, ...(cfg.cluster?.sipAddress ? { contactHost: cfg.cluster.sipAddress } : {}) } } : {}),
        onFatal: (code) => {
          const err = new FsbridgeError(code, 'drachtio-server refused the secret (drachtio.secret)');
          this.log.fatal({ code }, err.message);
          this.rejectFatal(err);
        },
      })
      : null;
    const al = hostPort(cfg.api.listen);
    this.api = new ApiServer({
      host: al.host, port: al.port, token: cfg.api.token,
      access: {
        authenticate: (h) => this.access.authenticate(h),
        audit: (p, action, target, status, tenant) => this.access.audit(p, action, target, status, tenant),
      },
      accessBackend: this.access,
      campaigns: this.campaigns,
      twilio: cfg.api.twilio ? { accountSid: cfg.api.twilio.accountSid, authToken: cfg.api.twilio.authToken } : undefined,
      logger: this.log.child({ component: 'api' }), metrics: this.metrics,
      backend: {
        listCalls: (filter) => this.history.list(filter),
        exportCalls: (filter) => this.history.all(filter),
        getCall: (id) => this.history.get(id),
        originate: (body, tenant) => this.originate(body, tenant),
        hangup: (id) => this.endCall(id, 'api'),
        eraseSubject: (n, tenant) => this.eraseSubject(n, tenant),
        readRecording: (id) => this.recordings.read(id),
        findTwilioCall: (sid) => {
          const c = this.calls.list().find((x) => twilioCallSid(x.callId) === sid);
          return c && {
            callId: c.callId, sid, accountSid: this.accountSid, from: c.init.from, to: c.init.to,
            direction: c.init.direction, startTime: new Date(c.offeredAtMs).toISOString(),
          };
        },
        extraGet: (path, tenant) => (path === '/v1/trunks'
          ? {
            trunks: (this.sip?.status() ?? []).filter((t) => tenant === null || this.trunkTenant(t.trunk) === tenant),
            drachtio: this.sip ? (this.sip.connected ? 'connected' : 'disconnected') : 'not configured',
          }
          : undefined),
        ready: () => ({
          ready: this.control.connected && !this.calls.isDraining,
          detail: {
            esl: this.control.connected ? 'connected' : 'disconnected', calls: this.calls.size, draining: this.calls.isDraining,
            // a database outage does not stop calls: it is reported, not made a reason to be unready
            store: this.storeWriter.available ? 'ok' : 'unavailable', storeQueued: this.storeWriter.queued,
          },
        }),
      },
    });
  }

  /** The store once start() opened it; throws before (nothing writes or reads before start). */
  private openStore(): Store {
    if (!this.store) throw new FsbridgeError('STORE_UNAVAILABLE', 'the store is not open');
    return this.store;
  }

  /**
   * Opens the store (migrating it) and closes the calls this node left open when it last stopped
   * without ending them; then keeps the node's heartbeat (the last moment it is known alive), at
   * which it also reads the tenants other nodes created.
   */
  private async startStore(): Promise<void> {
    const loc = parseStoreUrl(this.config.store.url);
    if (typeof loc === 'string') throw new FsbridgeError('STORE_OPEN_FAILED', `store.url: ${loc}`);
    const log = this.log.child({ component: 'store' });
    this.store = await Store.open({
      location: loc, password: this.config.store.password,
      onIdleError: (err) => log.warn({ err }, 'idle database connection failed (the pool replaces it)'),
    });
    const closed = await this.store.recoverNode(this.nodeId, this.clock.wallMs());
    await this.access.load();
    const now = this.clock.wallMs();
    this.calls.seedDailyCounts(await callsSince(this.store, this.nodeId, now - (now % 86_400_000)));
    if (closed > 0) {
      this.metrics.counter('fsbridge_calls_recovered_total', 'Calls left open by an earlier run of this node, closed at start').inc({}, closed);
      log.warn({ calls: closed, nodeId: this.nodeId, code: 'CALL_DAEMON_CRASHED' }, 'calls left open by an earlier run closed as CALL_DAEMON_CRASHED');
    }
    log.info({ kind: this.store.kind, nodeId: this.nodeId }, 'store open');
    await this.recordings.start();
    await this.campaigns.start();
    this.deliverer.start();
    const beatMs = this.cluster?.heartbeatMs ?? HEARTBEAT_MS;
    const beat = () => {
      if (this.cluster) void this.cluster.beat();
      else this.storeWriter.push({ kind: 'node-seen', nodeId: this.nodeId, atMs: this.clock.wallMs() });
      // tenants another node created through the API (their limits apply here from now on)
      void this.access.load().catch(() => {});
      this.stopHeartbeat = this.clock.setTimeout(beat, beatMs);
    };
    this.stopHeartbeat = this.clock.setTimeout(beat, beatMs);
  }

  /** Opens the store, binds the listeners, then starts the ESL control connection. */
  async start(): Promise<DaemonPorts> {
    const cfg = this.config;
    await this.startStore();
    this.control.on('connected', ({ reconnect }) => {
      this.metrics.gauge('fsbridge_esl_connected', 'ESL control connection up (1) or down (0)').set(1);
      this.log.info({ reconnect }, 'esl control connected');
      this.resolveReady();
    });
    this.control.on('disconnected', ({ code }) => {
      this.metrics.gauge('fsbridge_esl_connected', 'ESL control connection up (1) or down (0)').set(0);
      if (this.closing) { this.log.info({ code }, 'esl control closed'); return; }
      this.metrics.counter('fsbridge_esl_disconnects_total', 'ESL control connection losses').inc();
      this.log.warn({ code }, 'esl control disconnected');
    });
    this.control.on('fatal', ({ code }) => {
      const err = new FsbridgeError(code, code === 'ESL_AUTH_FAILED'
        ? 'FreeSWITCH refused the ESL password (freeswitch.esl.password)'
        : 'FreeSWITCH refused the ESL connection');
      this.log.fatal({ code }, err.message);
      this.rejectReady(err);
      this.rejectFatal(err);
    });
    this.metrics.addCollector(() => this.collectGauges());
    this.control.on('event', (ev) => this.onControlEvent(ev));
    this.control.on('reconciled', ({ uuids }) => this.reconcile(uuids));
    this.outbound.on('session', (s) => this.onSession(s));

    if (cfg.freeswitch.playback === 'pipe') {
      const removed = preparePipeDir(cfg.media.pipeDir);
      if (removed > 0) this.log.info({ dir: cfg.media.pipeDir, removed }, 'playback pipes left by an earlier run removed');
    }
    if (this.media) {
      const m = await this.media.listen();
      this.ports.media = m.port;
      const adv = cfg.media.advertise;
      this.mediaUrlBase = `ws://${hostPort(adv).port === 0 ? `${m.host}:${m.port}` : adv}`;
    } else if (this.workers) {
      const ports = await this.workers.start();
      this.ports.media = ports[0];
      this.ports.mediaWorkers = ports;
    }
    this.ports.outboundSocket = (await this.outbound.listen()).port;
    await this.api.listen();
    this.ports.api = this.api.port;
    this.control.start();
    this.sip?.start();
    this.registrarLease?.start();
    this.log.info({ ports: this.ports }, 'listeners bound');
    return this.ports;
  }

  /** Ends a live call by id (HTTP API). */
  async endCall(callId: string, endedBy: 'api' | 'shutdown'): Promise<boolean> {
    const sup = this.supervisors.get(callId);
    if (!sup) return false;
    return sup.end(endedBy, endedBy === 'shutdown' ? 'SYSTEM_SHUTDOWN' : 'NORMAL_CLEARING');
  }

  /**
   * Applies a new configuration to a running daemon (SIGHUP). What applies at once: `log.level`,
   * and `bots` (calls offered from now on use the new bots; live calls keep theirs). Anything else
   * that differs is listed in `needsRestart` and not applied (listeners, FreeSWITCH, drachtio,
   * trunks and routes hold sockets and registrations that live calls depend on).
   */
  reload(next: DeepReadonly<Config>): { applied: string[]; needsRestart: string[] } {
    const prev = this.config;
    const applied: string[] = [];
    if (next.log.level !== prev.log.level) {
      this.log.level = next.log.level;
      this.workers?.setLogLevel(next.log.level);
      applied.push('log.level');
    }
    if (JSON.stringify(next.bots) !== JSON.stringify(prev.bots)) applied.push('bots');
    const needsRestart: string[] = (['freeswitch', 'media', 'drachtio', 'trunks', 'routes', 'api', 'calls', 'store', 'cluster', 'recordings'] as const)
      .filter((k) => JSON.stringify(next[k]) !== JSON.stringify(prev[k]));
    if (JSON.stringify({ ...next.log, level: '' }) !== JSON.stringify({ ...prev.log, level: '' })) needsRestart.push('log');
    this.config = { ...prev, log: { ...prev.log, level: next.log.level }, bots: next.bots };
    return { applied, needsRestart };
  }

  /** Drains and stops. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const cfg = this.config;
    this.calls.startDraining();
    // no campaign call starts from now on; those in flight end with the drain
    const campaignsClosed = this.campaigns.close();
    this.log.info({ calls: this.calls.size, drainTimeoutMs: cfg.calls.drainTimeoutMs }, 'draining');
    if (!(await this.calls.waitIdle(cfg.calls.drainTimeoutMs))) {
      for (const sup of [...this.supervisors.values()]) void sup.end('shutdown', 'SYSTEM_SHUTDOWN');
      await this.calls.waitIdle(3000);
      // Calls whose channel never reported its end still get their record.
      for (const c of this.calls.list()) c.finish(causeFromName('SYSTEM_SHUTDOWN'));
    }
    await this.sip?.close();
    await this.registrarLease?.close();
    await this.api.close();
    await this.outbound.close();
    await this.media?.close();
    await this.workers?.close();
    this.control.close();
    await this.recordFile?.flush();
    this.stopHeartbeat?.();
    await this.cluster?.settled();
    await campaignsClosed;
    await Promise.all(this.finishing);
    await this.recordings.close();
    if (this.store) {
      // a clean stop: nothing for another node of a cluster to take over (its calls ended, its attempts are stored)
      this.storeWriter.push({ kind: 'node-stopped', nodeId: this.nodeId, atMs: this.clock.wallMs() });
      const left = await this.storeWriter.flush();
      // callbacks not sent yet stay in the outbox: the next start sends them
      await this.deliverer.close();
      this.storeWriter.close();
      if (left > 0) {
        this.metrics.error('STORE_UNFLUSHED');
        this.log.error({ code: 'STORE_UNFLUSHED', writes: left }, 'store unreachable at shutdown: queued writes lost');
      }
      await this.store.close().catch((err) => this.log.warn({ err }, 'closing the store failed'));
    }
    this.log.info('stopped');
  }

  /** What every call's supervisor needs from the daemon. */
  private supervisorDeps(): SupervisorDeps {
    return {
      calls: this.calls, logger: this.log, metrics: this.metrics, clock: this.clock,
      hasBot: (name) => Object.prototype.hasOwnProperty.call(this.config.bots, name),
      makeBotLeg: (call) => this.makeLeg(call),
      hangupSip: (callId, cause) => { this.sip?.hangup(callId, cause); },
      killChannel: (fsUuid, cause) => { void this.control.uuidKill(fsUuid, cause); },
      socketWaitMs: this.config.freeswitch.outboundSocket.handshakeTimeoutMs,
      botRequest: (call, r) => {
        if (r.kind === 'amd') { call.annotate({ answeredBy: r.answeredBy }); return; }
        // once per call: a bot repeating it does not reach the store again
        if (this.dncAsked.has(call)) return;
        this.dncAsked.add(call);
        void this.campaigns.botDnc(call.callId, call.init.tenant, call.init.direction === 'outbound' ? call.init.to : call.init.from);
      },
    };
  }

  /**
   * Admits a call through `admit()`; on a node of a cluster, the call's slots of the limits the
   * nodes share (its tenant's; an outbound call's trunk; a campaign call's campaign) are claimed
   * in the store first. The await is a point where this node may have filled up or begun to
   * drain: admit() checks again after it. A call refused here gives its slots back; an admitted
   * one gives them back when it ends.
   */
  private async admitCall(
    init: CallOffer, slot: { trunk?: string; campaign?: { id: string; maxConcurrent: number }; reserve?: number } = {},
  ): Promise<ReturnType<typeof CallSupervisor.admit>> {
    const cluster = this.cluster;
    // refusals this node makes alone need no round trip
    if (!cluster || this.calls.isDraining || this.calls.size >= this.config.calls.maxConcurrent) return this.admit(init);
    const callId = init.callId ?? randomUUID();
    const tenant = init.tenant ?? (init.bot === null ? 'default' : this.botTenant(init.bot) ?? 'default');
    const limits = this.access.tenant(tenant);
    const trunk = slot.trunk === undefined ? undefined : this.config.trunks.find((t) => t.name === slot.trunk);
    const refused = await cluster.claim({
      callId, tenant, trunk: slot.trunk ?? null, campaignId: slot.campaign?.id ?? null,
      tenantMax: limits?.maxConcurrentCalls ?? null, tenantPerDay: limits?.callsPerDay ?? null,
      trunkMax: trunk?.outbound.maxConcurrent ?? null, campaignMax: slot.campaign?.maxConcurrent ?? null, reserve: slot.reserve ?? 0,
    });
    if (refused) return { ok: false, code: refused };
    const adm = this.admit({ ...init, callId });
    if (!adm.ok) cluster.refund(callId);
    else adm.supervisor.call.once('ended', () => cluster.release(callId));
    return adm;
  }

  /** Admits a SIP call when it is offered; its supervisor waits for FreeSWITCH's channel. */
  private admit(init: Parameters<typeof CallSupervisor.admit>[0]): ReturnType<typeof CallSupervisor.admit> {
    const adm = CallSupervisor.admit(init, this.supervisorDeps());
    if (adm.ok) this.track(adm.supervisor);
    return adm;
  }

  /** Keeps a supervisor reachable until its call ends. */
  private track(sup: CallSupervisor): void {
    this.supervisors.set(sup.callId, sup);
    sup.call.once('ended', () => {
      if (this.supervisors.get(sup.callId) === sup) this.supervisors.delete(sup.callId);
      // a transferred channel can come back as a new call with the same uuid: remove only our own
      if (this.byUuid.get(sup.call.fsUuid) === sup) this.byUuid.delete(sup.call.fsUuid);
    });
  }

  private onSession(s: OutboundSession): void {
    const channel = sessionChannel(s, this.control);
    const varNames = Object.keys(s.channelData.variables);
    // Another connection for a channel that is already a live call (a second `socket`, or a client
    // pretending to be FreeSWITCH): closed, the channel untouched. A channel that left fsbridge
    // (transferred, its call ending) may come back as a new call.
    const current = this.byUuid.get(s.uuid);
    if (current && current.call.live) {
      this.metrics.error('CALL_DUPLICATE_SESSION');
      this.log.warn({ code: 'CALL_DUPLICATE_SESSION', callId: current.callId, fsUuid: s.uuid }, 'second socket connection for a live call');
      s.close();
      return;
    }
    // A SIP call fsbridge routed or dialled comes back (the `fsbridge` dialplan context, or the
    // originate of an outbound call) with its call id; anything else is a dialplan-triggered call.
    const sipCallId = s.getVar('fsbridge_call_id') ?? s.getVar('sip_h_X-Fsbridge-Call');
    if (sipCallId) {
      const sup = this.supervisors.get(sipCallId);
      if (!sup || sup.hasChannel || !sup.call.live) {
        // Its call already ended (or never was fsbridge's): it has its record; let the channel go.
        this.metrics.error('CALL_STALE_SESSION');
        this.log.warn({ code: 'CALL_STALE_SESSION', callId: sipCallId, fsUuid: s.uuid }, 'socket connection for a call that is not pending');
        void s.hangup('NORMAL_CLEARING').finally(() => s.close());
        return;
      }
      this.byUuid.set(s.uuid, sup);
      void sup.attachChannel(channel, varNames).catch((err) => this.log.error({ err, fsUuid: s.uuid }, 'call flow failed'));
      return;
    }
    // tracked as soon as it is admitted, before the channel is answered
    void CallSupervisor.fromChannel(channel, varNames, this.supervisorDeps(), (sup) => {
      this.track(sup);
      this.byUuid.set(s.uuid, sup);
    }).catch((err) => {
      this.log.error({ err, fsUuid: s.uuid }, 'call flow failed');
    });
  }

  /**
   * An erasure request: every stored record of `tenant` (null: every tenant) from or to `number`,
   * and its lines in calls.recordFile, are removed. Writes queued before it are applied first.
   */
  async eraseSubject(number: string, tenant: string | null): Promise<{ status: number; body: Record<string, unknown> }> {
    const forms = numberForms(number);
    if (!forms) return { status: 400, body: { error: { code: 'API_BAD_REQUEST', problems: ['number: expected a phone number'] } } };
    await this.storeWriter.flush();
    if (!this.storeWriter.available) return { status: 503, body: { error: { code: 'API_STORE_UNAVAILABLE', message: 'the call store is not reachable' } } };
    const { callIds, recordingPaths, recordingsElsewhere, campaignContacts } = await eraseSubject(this.openStore(), forms, tenant, this.nodeId);
    // another node's recordings are removed by that node's next purge (within the hour)
    const recordings = await this.recordings.removeFiles(recordingPaths) + recordingsElsewhere;
    const lines = await this.recordFile?.erase((r) => (forms.includes(r.from) || forms.includes(r.to))
      && (tenant === null || (r.tenant ?? 'default') === tenant)) ?? 0;
    this.log.info({ calls: callIds.length, recordings, recordFileLines: lines, campaignContacts, tenant }, 'subject erased');
    return { status: 200, body: { erased: { calls: callIds.length, recordings, recordFileLines: lines, campaignContacts } } };
  }

  /** Where a call's status callbacks go: its route's statusCallback (trunk calls), its bot's and its tenant's. */
  private callbackTargets(call: Call): CallbackTarget[] {
    const cfg = this.config;
    const route = call.init.route === undefined ? undefined : cfg.routes[call.init.route];
    const bot = call.init.bot !== null && Object.prototype.hasOwnProperty.call(cfg.bots, call.init.bot) ? cfg.bots[call.init.bot] : undefined;
    const tenant = Object.prototype.hasOwnProperty.call(cfg.tenants, call.init.tenant) ? cfg.tenants[call.init.tenant] : undefined;
    return [route?.statusCallback, bot?.statusCallback, tenant?.statusCallback].filter((c): c is NonNullable<typeof c> => c !== undefined);
  }

  /** The tenant of a configured trunk; undefined when there is no such trunk. */
  private trunkTenant(name: string): string | undefined {
    const t = this.config.trunks.find((x) => x.name === name);
    return t && (t.tenant ?? 'default');
  }

  /** The tenant of a configured bot; undefined when there is no such bot. */
  private botTenant(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.config.bots, name) ? this.config.bots[name].tenant ?? 'default' : undefined;
  }

  /**
   * `POST /v1/calls`: dials out through a trunk and connects the bot when the callee answers.
   * Resolves when the dial has a result (answered, busy, no-answer, rejected, failed). A key of
   * one tenant (`tenant`) may use only that tenant's bots and trunks.
   */
  private async originate(body: unknown, tenant: string | null): Promise<{ status: number; body: Record<string, unknown> }> {
    const b = (body ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof b[k] === 'string' && (b[k] as string).length > 0 ? (b[k] as string) : undefined);
    const to = str('to');
    const trunk = str('trunk');
    const bot = str('bot');
    const problems: string[] = [];
    if (!to || !/^\+?[0-9*#]{1,32}$/.test(to)) problems.push('to: expected a dialled number');
    // a key of one tenant sees only its tenant's trunks and bots: another's are "not configured"
    const trunkTenant = trunk === undefined ? undefined : this.trunkTenant(trunk);
    const botTenant = bot === undefined ? undefined : this.botTenant(bot);
    if (trunkTenant === undefined || (tenant !== null && trunkTenant !== tenant)) problems.push('trunk: expected the name of a configured trunk');
    if (botTenant === undefined || (tenant !== null && botTenant !== tenant)) problems.push('bot: expected the name of a configured bot');
    const timeoutSec = b.timeoutSec === undefined ? 30 : Number(b.timeoutSec);
    if (!Number.isInteger(timeoutSec) || timeoutSec < 1 || timeoutSec > 300) problems.push('timeoutSec: expected an integer from 1 to 300');
    const params: Record<string, string> = {};
    if (b.params !== undefined) {
      if (typeof b.params !== 'object' || b.params === null || Array.isArray(b.params)) problems.push('params: expected an object of strings');
      else for (const [k, v] of Object.entries(b.params)) if (typeof v === 'string') params[k] = v; else problems.push(`params.${k}: expected a string`);
    }
    if (b.record !== undefined && typeof b.record !== 'boolean') problems.push('record: expected true or false');
    if (b.record === true && !this.recordings.enabled) problems.push('record: recordings.masterKey is not configured, so fsbridge cannot record');
    if (!this.sip) problems.push('drachtio: not configured, so fsbridge cannot place SIP calls');
    const amd = parseAmdRequest(b.amd);
    if (!amd.ok) problems.push(...amd.problems);
    const message = amd.ok && amd.amd?.message && await promptProblem(amd.amd.message, 'amd.message');
    if (message) problems.push(message);
    if (problems.length) return { status: 400, body: { error: { code: 'API_BAD_REQUEST', problems } } };
    const callId = randomUUID();
    const from = str('from');
    const adm = await this.admitCall({ callId, fsUuid: '', direction: 'outbound', bot: bot!, from: from ?? '', to: to!, params,
      ...(typeof b.record === 'boolean' ? { record: b.record } : {}), ...(amd.ok && amd.amd ? { amd: amd.amd } : {}),
    }, { trunk: trunk! });
    if (!adm.ok) return { status: adm.code.endsWith('_LIMIT') ? 429 : 503, body: { error: { code: adm.code } } };
    const r = await this.dialAdmitted(adm.supervisor, { callId, to: to!, from, trunk: trunk!, timeoutSec });
    const out: Record<string, unknown> = { callId, result: r.result };
    if (r.result !== 'answered') Object.assign(out, { sipStatus: r.sipStatus, cause: r.cause, ...(r.code ? { code: r.code } : {}) });
    return { status: 200, body: out };
  }

  /**
   * Why a campaign call may not start now, or null: drachtio or FreeSWITCH not connected,
   * draining, or the node, the tenant (live calls, today's calls) or the trunk (its outbound
   * slots, a dial waiting for one) would be left with fewer than `reserveSlots` free slots.
   */
  private campaignBlocked(c: { tenant: string; trunk: string; reserveSlots: number }): string | null {
    if (!this.sip?.connected || !this.control.connected) return 'not connected';
    if (this.calls.isDraining) return 'draining';
    if (this.calls.size + 1 + c.reserveSlots > this.config.calls.maxConcurrent) return 'node full';
    const limits = this.access.tenant(c.tenant);
    const load = this.calls.tenantLoad(c.tenant);
    if (limits?.maxConcurrentCalls != null && load.live + 1 + c.reserveSlots > limits.maxConcurrentCalls) return 'tenant full';
    if (limits?.callsPerDay != null && load.today >= limits.callsPerDay) return 'tenant daily cap';
    const trunk = this.config.trunks.find((t) => t.name === c.trunk);
    const used = this.sip.trunkLoad(c.trunk);
    if (!trunk || used.waiting > 0 || used.inUse + 1 + c.reserveSlots > trunk.outbound.maxConcurrent) return 'trunk full';
    return null;
  }

  /** Dials an admitted outbound call through its trunk and tells its supervisor how the far end answered. */
  private async dialAdmitted(sup: CallSupervisor, req: DialRequest): Promise<DialResult> {
    const r = await this.sip!.dial(req);
    sup.dialSettled(r.result === 'answered'
      ? { ok: true, fsUuid: r.fsUuid }
      : { ok: false, endedBy: r.result === 'failed' ? 'fsbridge' : 'callee', cause: r.cause, sipStatus: r.sipStatus, result: r.result, errorCode: r.code });
    return r;
  }

  /** Places one campaign call and resolves with its record's facts once it ended. Never rejects. */
  private async placeCampaignCall(d: CampaignDial): Promise<OutcomeFacts> {
    const adm = await this.admitCall({
      callId: d.callId, fsUuid: '', direction: 'outbound', bot: d.bot, from: d.from ?? '', to: d.to, params: d.params, tenant: d.tenant,
      ...(d.offlinePrompt ? { offlinePrompt: d.offlinePrompt } : {}), ...(d.amd ? { amd: d.amd } : {}),
    }, { trunk: d.trunk, campaign: { id: d.campaignId, maxConcurrent: d.maxConcurrent }, reserve: d.reserveSlots });
    if (!adm.ok) return { notPlaced: true, answeredAt: null, connectedAt: null, errorCode: adm.code };
    const ended = new Promise<CallRecord>((r) => adm.supervisor.call.once('ended', r));
    await this.dialAdmitted(adm.supervisor, { callId: d.callId, to: d.to, from: d.from, trunk: d.trunk, timeoutSec: d.timeoutSec });
    const rec = await ended;
    return {
      result: rec.result ?? null, sipStatus: rec.sipStatus ?? null, answeredAt: rec.answeredAt, connectedAt: rec.connectedAt, cause: rec.cause,
      errorCode: rec.errorCode ?? null, answeredBy: rec.answeredBy ?? null,
    };
  }

  /** A campaign's event targets: its tenant's and its bot's statusCallbacks that list `campaign`. */
  private campaignHookTargets(tenant: string, bot: string): { url: string; secret: string }[] {
    const cfg = this.config;
    const t = Object.prototype.hasOwnProperty.call(cfg.tenants, tenant) ? cfg.tenants[tenant].statusCallback : undefined;
    const b = Object.prototype.hasOwnProperty.call(cfg.bots, bot) ? cfg.bots[bot].statusCallback : undefined;
    return [t, b].filter((c): c is NonNullable<typeof c> => c !== undefined && c.events.includes('campaign')).map((c) => ({ url: c.url, secret: c.secret }));
  }

  /**
   * A call's tenant and far-end number (outbound: the callee), live or from the store. A live call
   * is also found by the CallSid / call_sid its Twilio or Exotel bot was given.
   */
  private async callParty(callId: string): Promise<{ callId: string; tenant: string; number: string } | undefined> {
    const live = this.calls.get(callId) ?? this.calls.list().find((c) => twilioCallSid(c.callId) === callId || exotelCallSid(c.callId) === callId);
    if (live) return { callId: live.callId, tenant: live.init.tenant, number: live.init.direction === 'outbound' ? live.init.to : live.init.from };
    const row = await this.openStore().getCall(callId);
    return row && { callId, tenant: row.tenant, number: row.direction === 'outbound' ? row.to_number : row.from_number };
  }

  /**
   * FreeSWITCH's leg of an outbound call: `originate` through the `fsbridge` profile to
   * drachtio-server, running `socket ${fsbridge_outbound_socket} async full` once answered (the
   * same global variable the dialplans use). Resolves when FreeSWITCH is done with the originate.
   */
  private async originateFreeswitchLeg(r: FreeswitchLegRequest): Promise<{ ok: true } | { ok: false; cause: string }> {
    const vars = [
      `origination_uuid=${r.fsUuid}`, `fsbridge_call_id=${r.callId}`, `sip_h_X-Fsbridge-Call=${r.callId}`,
      `origination_caller_id_number=${r.from}`, `originate_timeout=${r.timeoutSec}`,
    ];
    const res = await this.control.originate(`{${vars.join(',')}}sofia/fsbridge/${r.uri}`,
      '&socket(${fsbridge_outbound_socket} async full)', (r.timeoutSec + 10) * 1000);
    if (res.ok) return { ok: true };
    const cause = /^-ERR ([A-Z_]+)/.exec(res.reply ?? '')?.[1] ?? 'NORMAL_TEMPORARY_FAILURE';
    return { ok: false, cause };
  }

  private makeLeg(call: Call): SupervisedLeg {
    const cfg = this.config;
    const botName = call.init.bot ?? '';
    const record = call.init.record ?? cfg.bots[botName]?.record ?? false;
    const recording = record ? this.recordings.begin(call.callId, call.init.tenant, cfg.freeswitch.sampleRate) : null;
    const spec: MediaLegSpec = {
      info: {
        callId: call.callId, fsUuid: call.fsUuid, from: call.init.from, to: call.init.to,
        direction: call.init.direction, params: { ...call.init.params }, accountSid: this.accountSid,
      },
      botName,
      // a campaign call whose bot cannot be reached plays the campaign's prompt, then ends
      bot: call.init.offlinePrompt ? { ...cfg.bots[botName], onDisconnect: 'fallback', fallbackAudio: call.init.offlinePrompt } : cfg.bots[botName],
      fsSampleRateHz: cfg.freeswitch.sampleRate, playback: cfg.freeswitch.playback,
      segmentMs: cfg.media.segmentMs, playoutBufferMs: cfg.media.playoutBufferMs,
      pipeDir: cfg.media.pipeDir, pipeLeadMs: cfg.media.pipeLeadMs,
      ...(recording ? { recording } : {}), ...(call.init.amd ? { amd: call.init.amd } : {}),
    };
    const leg = this.workers
      ? this.workers.createLeg(spec, call.logger.bindings())
      : new MediaLeg({
        ...spec, control: this.control, media: this.media!, mediaUrlBase: this.mediaUrlBase,
        clock: this.clock, logger: call.logger, metrics: this.metrics, sharedLogs: this.callLogs,
      });
    // FreeSWITCH sends this channel's PLAYBACK_* / mod_audio_stream events to the control
    // connection only while it is watched (a `filter`, queued ahead of uuid_audio_stream).
    void this.control.watchChannel(call.fsUuid);
    call.once('ended', () => { void this.control.unwatchChannel(call.fsUuid); });
    if (!recording) return leg;
    return new RecordedLeg(leg, () => {
      const done = this.recordings.finish(recording).finally(() => this.finishing.delete(done));
      this.finishing.add(done);
      return done;
    });
  }

  /**
   * What each call holds, summed (read at every /metrics scrape): after the calls ended, each is 0
   * and the pending timers are back to what the daemon keeps for itself (reconnects, refreshes).
   */
  private collectGauges(): void {
    const m = this.metrics;
    m.gauge('fsbridge_call_owners', 'Call supervisors alive (one per live call)').set(this.supervisors.size);
    m.gauge('fsbridge_call_channels', 'Live calls reachable by FreeSWITCH uuid').set(this.byUuid.size);
    m.gauge('fsbridge_timers_pending', 'Timers of the daemon not yet fired or cancelled').set(this.timers.pendingTimers);
    const sip = this.sip?.load();
    if (sip) {
      const g = m.gauge('fsbridge_sip_in_progress', 'SIP calls and dials held by the SIP side, by kind');
      g.set(sip.inboundPending, { kind: 'inbound-setup' });
      g.set(sip.inboundCalls, { kind: 'inbound-answered' });
      g.set(sip.outboundDials, { kind: 'outbound-dialling' });
      g.set(sip.outboundCalls, { kind: 'outbound-answered' });
      g.set(sip.trunkSlots, { kind: 'trunk-slots' });
    }
  }

  private onControlEvent(ev: FsEvent): void {
    if (!ev.uuid) return;
    this.byUuid.get(ev.uuid)?.onFsEvent(ev);
  }

  /** After an ESL reconnect: calls whose channel FreeSWITCH no longer knows are ended. */
  private reconcile(uuids: string[]): void {
    const live = new Set(uuids);
    for (const sup of [...this.supervisors.values()]) {
      if (sup.hasChannel && !live.has(sup.channelUuid)) sup.channelVanished();
    }
  }
}
