/**
 * Outbound campaigns: what importing, storing and dialling cost the daemon. Loopback only.
 *
 * 1. Import: 100,000 contacts as CSV (bench/lib/contact-list.ts: eight zones, two variables
 *    each). importContacts() (CSV parse + E.164 + zone) against JSON.parse of the same contacts as
 *    JSON (the floor of getting them into objects); heap growth and the process's RSS high-water
 *    mark. Storing them: CampaignService.create → CampaignStore.create into SQLite (temp file) and
 *    PostgreSQL (bench/lib/postgres.ts, when installed), against the same rows inserted with the
 *    raw driver (one plain 500-row INSERT per statement, 4 per transaction, as the store batches
 *    them); event-loop delay during the store phase against the same process idle.
 * 2. The dialer's decision cost per started call: CampaignDialer on a ManualClock with a port whose
 *    dial answers at once (so each call is: hopper refill amortised, DNC check, per-number cap
 *    check, window check, attempt stored in a transaction, outcome stored), with 1,000 and with
 *    100,000 contacts (a scan of the list would grow 100×); then with the calling window closed
 *    for 7 of 8 zones (deferrals), and closed for every contact (one tick defers them all). The
 *    queries' SQLite plans are shown.
 * 3. A live campaign at 50 calls/s: the Daemon in this process (its clock records how late its
 *    short timers fire: bench/lib/lateness-clock.ts), the FreeSWITCH twin and the echo bot in two
 *    child processes (bench/lib/campaign-peers.ts; the daemon's ESL control connection passes
 *    through a counting tap, bench/lib/esl-tap.ts), drachtio-server (the real one of
 *    ../shared/realfs where installed, at loglevel info so its log times every INVITE, else the
 *    twin), a sipp UAS as the trunk (test/e2e/sipp/uas-trunk-campaign.xml, -d 1000, -trace_msg
 *    for each INVITE's arrival time). Achieved INVITE rate at the trunk and the jitter of the gaps
 *    between INVITEs, against a baseline: drachtio-srf's createUAC paced on absolute 20 ms
 *    deadlines through the same drachtio-server to the same sipp (no dialer, no FreeSWITCH leg);
 *    where each dial's time went (dialer → FreeSWITCH's INVITE → B2BUA → trunk); the daemon's
 *    event-loop delay during the campaign against the same daemon idle.
 *
 * `node dist/bench/campaigns.js [--quick]` (after `npm run build`) prints the section;
 * `runCampaignBench()` / `formatCampaignBench()` are for bench/run.ts. Every loop is bounded in
 * count and time; the whole run takes about 1.5 minutes (about 40 s with --quick).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import Srf from 'drachtio-srf';
import { ManualClock } from '../src/clock.js';
import { Store } from '../src/store/store.js';
import type { StoreTables } from '../src/store/tables.js';
import type { StoreLocation } from '../src/config/store-url.js';
import { silentLogger } from '../src/observability/logger.js';
import { MetricsRegistry } from '../src/observability/metrics.js';
import { CampaignStore, type ContactState, type DueContact } from '../src/campaigns/campaign-store.js';
import { DncStore } from '../src/campaigns/dnc-store.js';
import { CampaignDialer, type CampaignDialPort } from '../src/campaigns/dialer.js';
import { CampaignService } from '../src/campaigns/campaign-service.js';
import { importContacts, importContactsYielding, type ImportedContact } from '../src/campaigns/contact-import.js';
import { parseCsv } from '../src/campaigns/csv-reader.js';
import { parseCampaignSpec } from '../src/campaigns/campaign-spec.js';
import type { CallingWindow } from '../src/campaigns/calling-window.js';
import type { OutcomeFacts } from '../src/campaigns/outcome.js';
import { Daemon } from '../src/daemon.js';
import { loadConfig } from '../src/config/index.js';
import { repoRoot } from '../src/repo-root.js';
import { launchPostgres, postgresInstalled } from './lib/postgres.js';
import { realfsMissing, runRealfsScript } from './lib/realfs.js';
import { freeSipPort, freeTcpPort } from './lib/ports.js';
import { freeUdpPort, waitUdpBound } from './lib/udp-port.js';
import { CONTACT_ZONES, contactsCsv, contactsJson } from './lib/contact-list.js';
import { parseSippInvites } from './lib/sipp-trace.js';
import { PEERS_DRACHTIO_SECRET, type PeersReady } from './lib/campaign-peers.js';
import { parseDrachtioInvites } from './lib/drachtio-log.js';
import type { EslTapStats } from './lib/esl-tap.js';
import { LatenessClock } from './lib/lateness-clock.js';

// heap figures after a full collection (node --expose-gc, without asking the caller for the flag)
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const now = (): number => performance.now();
/** Epoch ms with sub-ms precision (comparable with sipp's wall-clock timestamps). */
const epochNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

// ------------------------------------------------------------------ figures

/** Percentiles of a sample. */
export interface Dist { n: number; mean: number; p50: number; p95: number; p99: number; max: number }

export interface ImportFigures {
  contacts: number;
  csvBytes: number;
  /** importContacts() of the CSV (median of `runs`). */
  importMs: number;
  runs: number;
  /** parseCsv() alone, and the baseline JSON.parse of the same contacts as JSON (medians). */
  csvParseMs: number;
  jsonParseMs: number;
  jsonBytes: number;
  /** heapUsed after the import minus before (garbage included), and what the result keeps after a GC. */
  heapGrowthMb: number;
  retainedMb: number;
  rssBeforeMb: number;
  /** The process's RSS high-water mark right after the import. */
  peakRssMb: number;
  /** Longest event-loop delay around the (synchronous) import. */
  loopMaxMs: number;
  /** importContactsYielding (what the API runs): its time, and the longest event-loop delay meanwhile. */
  yieldingMs: number;
  yieldingLoopMaxMs: number;
  stored: number;
  invalid: number;
  duplicates: number;
}

export interface StoreFigures {
  backend: string;
  contacts: number;
  /** CampaignService.create end to end (import again, store, the dialer's load). */
  createMs: number;
  /** CampaignStore.create alone. */
  storeMs: number;
  /** The same rows with the raw driver: 500-row INSERTs, 4 per transaction. */
  baselineMs: number;
  loopP99Ms: number;
  loopMaxMs: number;
  idleP99Ms: number;
  idleMaxMs: number;
}

export interface DialerRow {
  label: string;
  contacts: number;
  /** Calls started in the measured stretch. */
  calls: number;
  perCallUs: number;
  deferrals: number;
  refills: number;
  /** Time per decision (a call started or a contact deferred). */
  perDecisionUs: number;
}

export interface DialerFigures {
  rows: DialerRow[];
  /** SQLite's plan of each query the dialer runs per contact. */
  plans: { query: string; plan: string }[];
  /** Every contact's window closed: the first tick defers them all. */
  allClosed: { contacts: number; deferred: number; tickMs: number; loopMaxMs: number } | null;
}

export interface RateFigures {
  invites: number;
  spanSec: number;
  /** INVITEs per second from the first to the last. */
  rate: number;
  /** Gaps between successive INVITEs, ms. */
  gaps: Dist;
  /** Root-mean-square deviation of the gaps from the ideal 20 ms. */
  rmsVsIdealMs: number;
}

/** Where a campaign call's INVITE spent its time (from drachtio-server's log; real drachtio-server only). */
export interface DialPath {
  /** Dialer start → FreeSWITCH's INVITE read by drachtio-server (ESL originate + the twin). */
  freeswitchLegMs: Dist;
  /** drachtio-server read FreeSWITCH's INVITE → sent the INVITE to the trunk (fsbridge's B2BUA over the admin link). */
  b2buaMs: Dist;
  /** drachtio-server sent it → sipp read it. */
  wireMs: Dist;
  /** FreeSWITCH's INVITEs as drachtio-server read them. */
  freeswitchInvites: RateFigures;
}

/** fsbridge's ESL control connection during the campaign (through bench/lib/esl-tap.ts). */
export interface EslFigures {
  commands: number;
  perCall: number;
  byVerb: Record<string, number>;
  /** Commands per second carried, first to last command of the campaign. */
  perSec: number;
  /** The FreeSWITCH twin's reply time, and the daemon's time from a reply to its next command. */
  replyMs: Dist;
  turnaroundMs: Dist;
}

export interface LiveFigures {
  drachtio: 'real' | 'twin';
  drachtioNote: string;
  contacts: number;
  cps: number;
  /** INVITEs at the trunk, campaign and baseline. */
  campaign: RateFigures;
  baseline: RateFigures;
  baselineAnswered: number;
  /** Call starts in the daemon (its `call` events), gaps and rate. */
  dialer: RateFigures;
  /** How late the daemon's timers of at most one call interval fired (the dialer's pacing waits among them). */
  timerLateMs: Dist;
  /** Dialer start → INVITE at the trunk, per number. */
  setupMs: Dist;
  path: DialPath | null;
  esl: EslFigures | null;
  /** Callee answered → bot connected, of the answered calls; and how many answered calls never connected. */
  answerToBotMs: Dist;
  answeredNotConnected: number;
  /** Contacts by state at the end, and attempts by outcome. */
  outcomes: Record<string, number>;
  attempts: Record<string, number>;
  sippInvitesLogged: number;
  loop: LoopDelay;
  idle: LoopDelay;
  /** CPU, % of one core, during the campaign (null: not a process of its own). */
  cpu: { daemon: number; freeswitchTwin: number; bot: number; drachtio: number | null; sipp: number };
  errors: Record<string, number>;
  wallSec: number;
}

export interface CampaignBenchResult {
  quick: boolean;
  cpus: number;
  import: ImportFigures;
  store: StoreFigures[];
  storeNotes: string[];
  dialer: DialerFigures;
  live: LiveFigures | null;
  liveNote: string | null;
  wallSec: number;
  /** 1-minute load average before and after the run (other work on the machine). */
  load: [number, number];
}

function dist(xs: number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))] : NaN);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, mean, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN };
}

const median = (xs: number[]): number => dist(xs).p50;

interface LoopDelay { mean: number; p99: number; max: number }

/**
 * Event-loop delay from now until the returned function is called (1 ms resolution). Resolves
 * after the histogram's first tick: a stall before it would not be recorded.
 */
async function loopMonitor(): Promise<() => LoopDelay> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await sleep(3);
  return () => {
    h.disable();
    return h.count === 0 ? { mean: 0, p99: 0, max: 0 } : { mean: h.mean / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  };
}

/** The same process's event-loop delay while it does nothing for `ms`. */
async function idleLoop(ms: number): Promise<LoopDelay> {
  const stop = await loopMonitor();
  await sleep(ms);
  return stop();
}

// ------------------------------------------------------------------ 1. import and store

async function importPart(n: number, runs: number): Promise<{ figures: ImportFigures; csv: string; contacts: ImportedContact[] }> {
  const csv = contactsCsv(n);
  const json = contactsJson(n);
  // warm-up: libphonenumber's metadata, the zone map, the parser's code paths
  importContacts({ csv: contactsCsv(2000) }, 'US');
  JSON.parse(contactsJson(2000));
  gc();
  const m0 = process.memoryUsage();
  const stop = await loopMonitor();
  const t0 = now();
  let r = importContacts({ csv }, 'US');
  const times = [now() - t0];
  const m1 = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  await sleep(5); // the delayed sample of the histogram
  const loop = stop();
  gc();
  const m2 = process.memoryUsage();
  if (!r.ok) throw new Error(`import failed: ${r.problems.join('; ')}`);
  const first = r;
  for (let i = 1; i < runs; i++) {
    const t = now();
    r = importContacts({ csv }, 'US');
    times.push(now() - t);
  }
  const stopY = await loopMonitor();
  const ty = now();
  const yielded = await importContactsYielding({ csv }, 'US');
  const yieldingMs = now() - ty;
  await sleep(5);
  const yLoop = stopY();
  if (!yielded.ok || yielded.contacts.length !== first.contacts.length) throw new Error('the yielding import gave another result');
  const csvTimes: number[] = [];
  const jsonTimes: number[] = [];
  for (let i = 0; i < Math.max(3, runs); i++) {
    let t = now();
    parseCsv(csv);
    csvTimes.push(now() - t);
    t = now();
    JSON.parse(json);
    jsonTimes.push(now() - t);
  }
  return {
    csv,
    contacts: first.contacts,
    figures: {
      contacts: n, csvBytes: Buffer.byteLength(csv), importMs: median(times), runs, csvParseMs: median(csvTimes), jsonParseMs: median(jsonTimes),
      jsonBytes: Buffer.byteLength(json), heapGrowthMb: (m1.heapUsed - m0.heapUsed) / MB, retainedMb: (m2.heapUsed - m0.heapUsed) / MB,
      rssBeforeMb: m0.rss / MB, peakRssMb: peakRss / MB, loopMaxMs: loop.max, yieldingMs, yieldingLoopMaxMs: yLoop.max,
      stored: first.contacts.length, invalid: first.invalid, duplicates: first.duplicates,
    },
  };
}

/** A CampaignStore that times its create() and samples the event loop meanwhile. */
class TimedCampaignStore extends CampaignStore {
  createMs = 0;
  loop: LoopDelay = { mean: 0, p99: 0, max: 0 };
  override async create(...args: Parameters<CampaignStore['create']>): Promise<void> {
    const stop = await loopMonitor();
    const t0 = now();
    await super.create(...args);
    this.createMs = now() - t0;
    this.loop = stop();
  }
}

/** A dial port that never dials (the store part creates paused campaigns). */
const idlePort: CampaignDialPort = { blocked: () => 'bench', numberCap: () => null, dial: () => new Promise(() => {}) };

/** The contact rows CampaignStore.create writes, for the raw-driver baseline. */
function contactRow(id: string, seq: number, c: ImportedContact, at: number): unknown[] {
  return [id, seq, c.number, c.timeZone, c.vars ? JSON.stringify(c.vars) : null, c.valid ? 'pending' : 'invalid', c.valid ? null : 'invalid-number', 0, at, at];
}
const CONTACT_COLUMNS = '(campaign_id, seq, number, time_zone, vars, state, outcome, attempts, due_at, updated_at)';
const ROWS_PER_INSERT = 500;
const INSERTS_PER_TX = 4;

async function sqliteBaseline(path: string, contacts: readonly ImportedContact[]): Promise<number> {
  const migrated = await Store.open({ location: { kind: 'sqlite', path } });
  await migrated.close();
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const stmt = (rows: number) => db.prepare(`INSERT INTO campaign_contacts ${CONTACT_COLUMNS} VALUES ${new Array(rows).fill('(?,?,?,?,?,?,?,?,?,?)').join(',')}`);
    const full = stmt(ROWS_PER_INSERT);
    const at = Date.now();
    const t0 = now();
    for (let from = 0; from < contacts.length; from += ROWS_PER_INSERT * INSERTS_PER_TX) {
      db.transaction(() => {
        for (let i = from; i < Math.min(contacts.length, from + ROWS_PER_INSERT * INSERTS_PER_TX); i += ROWS_PER_INSERT) {
          const batch = contacts.slice(i, i + ROWS_PER_INSERT);
          const params = batch.flatMap((c, j) => contactRow('baseline', i + j, c, at));
          (batch.length === ROWS_PER_INSERT ? full : stmt(batch.length)).run(...params);
        }
      })();
      await new Promise<void>((r) => setImmediate(r));
    }
    return now() - t0;
  } finally {
    db.close();
  }
}

async function postgresBaseline(url: string, password: string, contacts: readonly ImportedContact[]): Promise<number> {
  const migrated = await Store.open({ location: { kind: 'postgres', connectionString: url }, password });
  await migrated.close();
  const withPassword = new URL(url);
  withPassword.password = password;
  const client = new pg.Client({ connectionString: withPassword.href });
  await client.connect();
  try {
    const at = Date.now();
    const t0 = now();
    for (let from = 0; from < contacts.length; from += ROWS_PER_INSERT * INSERTS_PER_TX) {
      await client.query('BEGIN');
      for (let i = from; i < Math.min(contacts.length, from + ROWS_PER_INSERT * INSERTS_PER_TX); i += ROWS_PER_INSERT) {
        const batch = contacts.slice(i, i + ROWS_PER_INSERT);
        const values = batch.map((_, j) => `(${Array.from({ length: 10 }, (_x, k) => `$${j * 10 + k + 1}`).join(',')})`).join(',');
        await client.query(`INSERT INTO campaign_contacts ${CONTACT_COLUMNS} VALUES ${values}`, batch.flatMap((c, j) => contactRow('baseline', i + j, c, at)));
      }
      await client.query('COMMIT');
    }
    return now() - t0;
  } finally {
    await client.end();
  }
}

/** CampaignService.create of the CSV into `location`; the figures of its store phase. */
async function serviceCreate(location: StoreLocation, password: string | undefined, csv: string, n: number): Promise<{ createMs: number; storeMs: number; loop: LoopDelay }> {
  const store = await Store.open({ location, password });
  const clock = new ManualClock(Date.now());
  const campaigns = new TimedCampaignStore(() => store.db);
  const dialer = new CampaignDialer({
    store: campaigns, dnc: new DncStore(() => store.db), port: idlePort, nodeId: 'bench', clock, logger: silentLogger(), metrics: new MetricsRegistry(), tickMs: 60_000,
  });
  const service = new CampaignService({
    store: campaigns, dialer, clock, logger: silentLogger(), botTenant: () => 'default', trunkTenant: () => 'default', cannotDial: () => null, emit: () => {},
  });
  try {
    const t0 = now();
    const reply = await service.create({ name: 'bench import', bot: 'bench', trunk: 'bench', contactsCsv: csv, defaultCountry: 'US', start: false }, null);
    const createMs = now() - t0;
    if (reply.status !== 201 || reply.body.contacts !== n) throw new Error(`create answered ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`);
    return { createMs, storeMs: campaigns.createMs, loop: campaigns.loop };
  } finally {
    await dialer.close();
    await store.close();
  }
}

async function storePart(csv: string, contacts: readonly ImportedContact[]): Promise<{ rows: StoreFigures[]; notes: string[] }> {
  const rows: StoreFigures[] = [];
  const notes: string[] = [];
  const n = contacts.length;
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-bench-campaigns-store-'));
  try {
    const base = await sqliteBaseline(join(dir, 'baseline.db'), contacts);
    const svc = await serviceCreate({ kind: 'sqlite', path: join(dir, 'service.db') }, undefined, csv, n);
    const idle = await idleLoop(Math.min(5000, Math.max(500, svc.storeMs)));
    rows.push({
      backend: 'SQLite (file, WAL)', contacts: n, createMs: svc.createMs, storeMs: svc.storeMs, baselineMs: base,
      loopP99Ms: svc.loop.p99, loopMaxMs: svc.loop.max, idleP99Ms: idle.p99, idleMaxMs: idle.max,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!postgresInstalled()) {
    notes.push('PostgreSQL not measured: not installed (apt-get install postgresql).');
    return { rows, notes };
  }
  const server = await launchPostgres();
  try {
    const base = await postgresBaseline(await server.createDatabase('baseline'), server.password, contacts);
    const svc = await serviceCreate({ kind: 'postgres', connectionString: await server.createDatabase('service') }, server.password, csv, n);
    const idle = await idleLoop(Math.min(5000, Math.max(500, svc.storeMs)));
    rows.push({
      backend: 'PostgreSQL (loopback, fsync off)', contacts: n, createMs: svc.createMs, storeMs: svc.storeMs, baselineMs: base,
      loopP99Ms: svc.loop.p99, loopMaxMs: svc.loop.max, idleP99Ms: idle.p99, idleMaxMs: idle.max,
    });
  } finally {
    await server.destroy();
  }
  return { rows, notes };
}

// ------------------------------------------------------------------ 2. the dialer's decisions

/** A CampaignStore that counts the dialer's refills and deferrals. */
class CountingCampaignStore extends CampaignStore {
  refills = 0;
  deferrals = 0;
  /** Statements that deferred a whole zone. */
  zoneStatements = 0;
  finals = 0;
  override async due(id: string, nowMs: number, limit: number): Promise<DueContact[]> {
    this.refills++;
    return super.due(id, nowMs, limit);
  }
  override async defer(id: string, seq: number, dueAt: number, nowMs: number): Promise<void> {
    this.deferrals++;
    return super.defer(id, seq, dueAt, nowMs);
  }
  /** A closed window holds back every due contact of a zone in one statement: each counts. */
  override async deferZone(id: string, zone: string | null, nowMs: number, dueAt: number): Promise<number> {
    const n = await super.deferZone(id, zone, nowMs, dueAt);
    this.deferrals += n;
    this.zoneStatements++;
    return n;
  }
  override async finalize(id: string, seq: number, state: ContactState, outcome: string, nowMs: number): Promise<void> {
    this.finals++;
    return super.finalize(id, seq, state, outcome, nowMs);
  }
}

/** Open 08:00–21:00 local, every day. */
const EVERY_DAY: CallingWindow[] = [{ days: [0, 1, 2, 3, 4, 5, 6], start: '08:00', end: '21:00' }];
/** Open on Sundays only (the scenarios run on a Wednesday). */
const SUNDAYS: CallingWindow[] = [{ days: [0], start: '08:00', end: '21:00' }];
/** A Wednesday: 14:00 UTC is inside 08:00–21:00 in all eight zones; at 02:00 UTC only Chicago's window (20:00) is. */
const ALL_OPEN_AT = '2026-03-04T14:00:00Z';
const ONE_IN_EIGHT_AT = '2026-03-04T02:00:00Z';
/** Calls started before the timed rounds, and per round (with deferrals: 7 contacts deferred per call); 150 + 5 × 160 fit in 1,000 contacts. */
const DIALER_WARMUP = 150;
const ROUND_CALLS = 160;
const ROUND_CALLS_DEFERRING = 60;
/** Numbers on the tenant's DNC list (none of them in the campaign: each check is an index miss). */
const DNC_NUMBERS = 10_000;

interface DialerSetup {
  store: Store;
  campaigns: CountingCampaignStore;
  dialer: CampaignDialer;
  clock: ManualClock;
  dials: () => number;
  close: () => Promise<void>;
}

/** A fresh SQLite store holding one running campaign of `contacts`, and a dialer over it (not started). */
async function dialerSetup(path: string, contacts: readonly ImportedContact[], windows: CallingWindow[], atIso: string): Promise<DialerSetup> {
  const store = await Store.open({ location: { kind: 'sqlite', path } });
  const campaigns = new CountingCampaignStore(() => store.db);
  const dnc = new DncStore(() => store.db);
  const clock = new ManualClock(Date.parse(atIso));
  await dnc.add('default', Array.from({ length: DNC_NUMBERS }, (_, i) => `+49302${String(i).padStart(7, '0')}`), 'bench', clock.wallMs());
  const parsed = parseCampaignSpec({
    name: 'bench dialer', bot: 'bench', trunk: 'bench', timeZone: 'Europe/Madrid', windows,
    pacing: { maxConcurrent: 100, callsPerSecond: 1000 }, caps: { perNumberPerDay: 2 },
  }, 'default');
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const at = clock.wallMs();
  await campaigns.create({
    id: 'bench-dialer', tenant: 'default', name: 'bench dialer', state: 'importing', spec: JSON.stringify(parsed.spec),
    contacts_total: contacts.length, created_at: at, updated_at: at,
  }, contacts, 'running', () => clock.wallMs());
  let dials = 0;
  // the far end answers at once and the bot connects: outcome `completed`
  const port: CampaignDialPort = {
    blocked: () => null,
    numberCap: () => null,
    dial: () => {
      dials++;
      const t = clock.wallMs();
      return Promise.resolve<OutcomeFacts>({ result: 'answered', sipStatus: 200, answeredAt: t, connectedAt: t, cause: 'NORMAL_CLEARING' });
    },
  };
  const dialer = new CampaignDialer({
    store: campaigns, dnc, port, nodeId: 'bench', clock, logger: silentLogger(), metrics: new MetricsRegistry(), tickMs: 60_000,
  });
  return {
    store, campaigns, dialer, clock, dials: () => dials,
    close: async () => { await dialer.close(); await store.close(); },
  };
}

/** Lets the dialer finish what the last timer started (its tick, the outcomes it stored). */
async function settle(d: CampaignDialer): Promise<void> {
  await d.settled();
  await new Promise<void>((r) => setImmediate(r));
  await d.settled();
}

/** A dialer over its own store, driven 1 ms of fake time at a step (1000 calls/s: one start per tick). */
class DialerRun {
  private readonly perCall: number[] = [];
  private readonly perDecision: number[] = [];
  private from = { dials: 0, deferrals: 0, refills: 0 };
  private readonly deadline = now() + 120_000;

  private constructor(readonly label: string, private readonly s: DialerSetup, private readonly contacts: number) {}

  /** Sets the store up, starts the dialer and lets `warmup` calls start untimed. */
  static async start(label: string, path: string, contacts: readonly ImportedContact[], windows: CallingWindow[], atIso: string, warmup: number): Promise<DialerRun> {
    const run = new DialerRun(label, await dialerSetup(path, contacts, windows, atIso), contacts.length);
    await run.s.dialer.start();
    await run.until(warmup);
    run.from = { dials: run.s.dials(), deferrals: run.s.campaigns.deferrals, refills: run.s.campaigns.refills };
    return run;
  }

  /** Steps until `dials` calls started (bounded by steps and wall time). */
  private async until(dials: number): Promise<void> {
    const steps = 50 * Math.max(1, dials - this.s.dials());
    for (let step = 0; step < steps && this.s.dials() < dials && now() < this.deadline; step++) {
      this.s.clock.advance(1);
      await settle(this.s.dialer);
    }
  }

  /** One timed round of `calls` calls. */
  async round(calls: number): Promise<void> {
    const d0 = this.s.dials();
    const f0 = this.s.campaigns.deferrals;
    const t0 = now();
    await this.until(d0 + calls);
    const ms = now() - t0;
    const started = this.s.dials() - d0;
    if (started <= 0) return;
    this.perCall.push((ms * 1000) / started);
    this.perDecision.push((ms * 1000) / (started + this.s.campaigns.deferrals - f0));
  }

  /** The median round, and the counts over all rounds. */
  row(): DialerRow {
    if (this.perCall.length === 0) throw new Error(`${this.label}: no call started after the warm-up`);
    return {
      label: this.label, contacts: this.contacts, calls: this.s.dials() - this.from.dials, perCallUs: median(this.perCall),
      deferrals: this.s.campaigns.deferrals - this.from.deferrals, refills: this.s.campaigns.refills - this.from.refills, perDecisionUs: median(this.perDecision),
    };
  }

  close(): Promise<void> { return this.s.close(); }
}

/** Every window closed (Sundays only, on a Wednesday): the first tick defers each contact. */
async function allClosedTick(path: string, contacts: readonly ImportedContact[]): Promise<DialerFigures['allClosed']> {
  const s = await dialerSetup(path, contacts, SUNDAYS, ALL_OPEN_AT);
  try {
    await s.dialer.start();
    const stop = await loopMonitor();
    const t0 = now();
    s.clock.advance(1);
    await settle(s.dialer);
    const tickMs = now() - t0;
    await sleep(5);
    const loop = stop();
    return { contacts: contacts.length, deferred: s.campaigns.deferrals, tickMs, loopMaxMs: loop.max };
  } finally {
    await s.close();
  }
}

/** SQLite's plan for each query one decision runs (captured from the real store code, not copied). */
async function queryPlans(path: string): Promise<{ query: string; plan: string }[]> {
  const file = new BetterSqlite3(path);
  const seen: CompiledQuery[] = [];
  const db = new Kysely<StoreTables>({ dialect: new SqliteDialect({ database: file }), log: (e) => { if (e.level === 'query') seen.push(e.query); } });
  try {
    const campaigns = new CampaignStore(() => db);
    const dnc = new DncStore(() => db);
    const plans: { query: string; plan: string }[] = [];
    const explain = async (query: string, run: () => Promise<unknown>) => {
      seen.length = 0;
      await run();
      const q = seen[0];
      if (!q) return;
      const rows = file.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as { detail: string }[];
      plans.push({ query, plan: rows.map((r) => r.detail).join('; ') });
    };
    await explain('hopper refill: CampaignStore.due()', () => campaigns.due('bench-dialer', Date.now(), 50));
    await explain('DNC check: DncStore.blocks()', () => dnc.blocks('default', '+12122000000'));
    await explain('per-number cap: CampaignStore.attemptsToNumber()', () => campaigns.attemptsToNumber('default', '+12122000000', 0));
    return plans;
  } finally {
    await db.destroy();
  }
}

async function dialerPart(contacts: readonly ImportedContact[], quick: boolean): Promise<DialerFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-bench-campaigns-dialer-'));
  try {
    const rounds = quick ? 3 : 5;
    // the two sizes take turns round by round, so that the order and other work on the machine weigh on both alike
    const small = await DialerRun.start('window open for every contact', join(dir, 'small.db'), contacts.slice(0, 1000), EVERY_DAY, ALL_OPEN_AT, DIALER_WARMUP);
    let large: DialerRun | undefined;
    try {
      large = await DialerRun.start('window open for every contact', join(dir, 'large.db'), contacts, EVERY_DAY, ALL_OPEN_AT, DIALER_WARMUP);
      for (let r = 0; r < rounds; r++) {
        await small.round(ROUND_CALLS);
        await large.round(ROUND_CALLS);
      }
    } finally {
      await small.close();
      await large?.close();
    }
    const deferring = await DialerRun.start('window open for 1 zone of 8 (deferrals)', join(dir, 'closed.db'), contacts, EVERY_DAY, ONE_IN_EIGHT_AT, DIALER_WARMUP);
    try {
      for (let r = 0; r < rounds; r++) await deferring.round(ROUND_CALLS_DEFERRING);
    } finally {
      await deferring.close();
    }
    const rows = [small.row(), large!.row(), deferring.row()];
    const plans = await queryPlans(join(dir, 'large.db'));
    const allClosed = await allClosedTick(join(dir, 'sundays.db'), quick ? contacts.slice(0, 20_000) : contacts);
    return { rows, plans, allClosed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ 3. live campaign

const CPS = 50;
const IDEAL_GAP_MS = 1000 / CPS;
const API_TOKEN = 'bench-token';
const SDP = 'v=0\r\no=FreeSWITCH 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function rateOf(atMs: number[]): RateFigures {
  const t = [...atMs].sort((a, b) => a - b);
  const gaps = t.slice(1).map((x, i) => x - t[i]);
  const spanSec = t.length > 1 ? (t[t.length - 1] - t[0]) / 1000 : NaN;
  const rms = gaps.length ? Math.sqrt(gaps.reduce((a, g) => a + (g - IDEAL_GAP_MS) ** 2, 0) / gaps.length) : NaN;
  return { invites: t.length, spanSec, rate: (t.length - 1) / spanSec, gaps: dist(gaps), rmsVsIdealMs: rms };
}

/** CPU seconds (user + system) of a process from /proc; NaN when it cannot be read. */
function cpuSec(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(after[11]) + Number(after[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function stopChild(c: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(signal);
  const t = setTimeout(() => c.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

interface Peers {
  child: ChildProcess;
  ready: PeersReady;
  api(cmd: string): Promise<string>;
  /** The ESL tap's figures (null: no FreeSWITCH twin in this child). */
  eslStats(reset: boolean): Promise<EslTapStats | null>;
  stop(): Promise<void>;
}

/** One child of bench/lib/campaign-peers.ts (`--fs`, `--bot`, `--drachtio-twin`). */
async function startPeers(dir: string, roles: string[]): Promise<Peers> {
  const child = fork(fileURLToPath(new URL('./lib/campaign-peers.js', import.meta.url)), ['--dir', dir, ...roles], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const pending = new Map<number, (reply: any) => void>();
  let seq = 0;
  const ready = await new Promise<PeersReady>((resolve, reject) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the peers child (${roles.join(' ')}) did not start in 15 s`)); }, 15_000);
    child.on('message', (m: { kind: string; id?: number; reply?: string; stats?: EslTapStats | null }) => {
      if (m.kind === 'ready') { clearTimeout(t); resolve(m as PeersReady); }
      if (m.kind === 'api' && m.id !== undefined) { pending.get(m.id)?.(m.reply ?? ''); pending.delete(m.id); }
      if (m.kind === 'esl-stats' && m.id !== undefined) { pending.get(m.id)?.(m.stats ?? null); pending.delete(m.id); }
    });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`the peers child (${roles.join(' ')}) exited (${code})`)); });
  });
  return {
    child, ready,
    api: (cmd) => new Promise((resolve, reject) => {
      const id = ++seq;
      const t = setTimeout(() => { pending.delete(id); reject(new Error(`FreeSWITCH twin: no answer to ${cmd}`)); }, 5000);
      pending.set(id, (r) => { clearTimeout(t); resolve(r); });
      child.send({ kind: 'api', id, cmd });
    }),
    eslStats: (reset) => new Promise((resolve, reject) => {
      const id = ++seq;
      const t = setTimeout(() => { pending.delete(id); reject(new Error('the ESL tap did not answer')); }, 5000);
      pending.set(id, (r) => { clearTimeout(t); resolve(r); });
      child.send({ kind: 'esl-stats', id, reset });
    }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.send({ kind: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** sipp as the trunk: answers, holds 1 s, hangs up; every message traced with its time. */
function startTrunk(dir: string, port: number, mediaPort: number, calls: number, timeoutSec: number): { child: ChildProcess; messages: string; output: () => string } {
  const messages = join(dir, 'trunk-messages.log');
  const args = [
    '-sf', join(repoRoot(), 'test/e2e/sipp/uas-trunk-campaign.xml'), '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort),
    '-m', String(calls), '-timeout', `${timeoutSec}s`, '-nostdin', '-nd', '-d', '1000', '-max_recv_loops', '1000',
    '-trace_logs', '-log_file', join(dir, 'trunk-invites.log'), '-trace_msg', '-message_file', messages,
  ];
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, messages, output: () => out };
}

/**
 * The baseline: `n` calls from drachtio-srf's createUAC on absolute 20 ms deadlines, through
 * drachtio-server to the trunk (INVITE, 200, ACK; the trunk hangs up after 1 s).
 */
async function pacedUac(adminPort: number, secret: string, trunkPort: number, n: number): Promise<{ answered: number; users: Set<string> }> {
  const srf: any = new (Srf as any)();
  srf.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('srf did not connect to drachtio-server in 5 s')), 5000);
    srf.once('connect', (err: Error | null) => { clearTimeout(t); if (err) reject(err); else resolve(); });
    srf.connect({ host: '127.0.0.1', port: adminPort, secret, reconnect: { maxAttempts: 1, retryMaxDelay: 100 } });
  });
  const users = new Set<string>();
  let answered = 0;
  const ended: Promise<void>[] = [];
  try {
    const start = now();
    for (let i = 0; i < n; i++) {
      const wait = start + i * IDEAL_GAP_MS - now();
      if (wait > 0) await sleep(wait);
      if (now() - start > n * IDEAL_GAP_MS + 5000) break; // the pacer itself fell far behind
      const user = `+4930999${String(i).padStart(5, '0')}`;
      users.add(user);
      ended.push((async () => {
        try {
          const dlg = await srf.createUAC(`sip:${user}@127.0.0.1:${trunkPort}`, { localSdp: SDP, headers: { From: '<sip:4930999000@127.0.0.1>' } });
          answered++;
          // the trunk hangs up after its 1 s pause
          await Promise.race([new Promise<void>((r) => dlg.once('destroy', () => r())), sleep(5000)]);
        } catch { /* counted as not answered */ }
      })());
    }
    await Promise.race([Promise.all(ended), sleep(15_000)]);
  } finally {
    try { srf.disconnect(); } catch { /* gone */ }
  }
  return { answered, users };
}

async function api(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method, headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(30_000),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** First time of each user in `xs` (retransmissions and retries left out). */
function firstBy<T extends { user: string; atMs: number }>(xs: readonly T[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) if (!m.has(x.user) || m.get(x.user)! > x.atMs) m.set(x.user, x.atMs);
  return m;
}

/** b − a for each key in both. */
function delays(a: Map<string, number>, b: Map<string, number>): number[] {
  return [...a].flatMap(([k, t]) => (b.has(k) ? [b.get(k)! - t] : []));
}

async function livePart(contacts: number, quick: boolean): Promise<LiveFigures> {
  const t0 = now();
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-bench-campaigns-live-'));
  const missing = realfsMissing().filter((m) => !m.endsWith('/freeswitch/bin/freeswitch') && !m.endsWith('/freeswitch.sh'));
  const real = missing.length === 0;
  let fsPeers: Peers | undefined;
  let botPeer: Peers | undefined;
  let trunk: ReturnType<typeof startTrunk> | undefined;
  let daemon: Daemon | undefined;
  const drachtioDir = join(dir, 'drachtio');
  let drachtioStarted = false;
  try {
    fsPeers = await startPeers(dir, ['--fs', ...(real ? [] : ['--drachtio-twin'])]);
    botPeer = await startPeers(dir, ['--bot']);
    let adminPort: number;
    let secret: string;
    let drachtioPid: number | undefined;
    let drachtioSipPort = 0;
    if (real) {
      adminPort = await freeTcpPort();
      drachtioSipPort = await freeSipPort();
      secret = 'bench-real';
      // loglevel info logs every SIP message with its time: the dial path's split below
      const out = await runRealfsScript('drachtio.sh', ['start', '--dir', drachtioDir, '--admin-port', String(adminPort), '--sip-port', String(drachtioSipPort), '--secret', secret, '--loglevel', 'info'], 60_000);
      drachtioStarted = true;
      drachtioPid = Number(out.trim().split('\n').pop());
    } else {
      adminPort = fsPeers.ready.drachtio!.adminPort;
      secret = PEERS_DRACHTIO_SECRET;
    }
    const baseCalls = contacts;
    const trunkPort = await freeUdpPort();
    trunk = startTrunk(dir, trunkPort, await freeUdpPort(), baseCalls + contacts, Math.ceil((2 * contacts) / CPS) + 240);
    if (!(await waitUdpBound(trunkPort))) throw new Error(`sipp did not bind its port: ${trunk.output().slice(-500)}`);

    // baseline: an ideal pacer through the same drachtio-server to the same trunk
    const base = await pacedUac(adminPort, secret, trunkPort, baseCalls);
    await sleep(1500);

    const text = `
freeswitch: { esl: { port: ${fsPeers.ready.eslPort}, password: ClueCon }, outboundSocket: { port: 0 } }
media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(join(dir, 'pipes'))} }
api: { listen: "127.0.0.1:0", token: ${API_TOKEN} }
drachtio: { host: 127.0.0.1, port: ${adminPort}, secret: ${secret}, sipProfileUri: "sip:127.0.0.1:${fsPeers.ready.fsSipPort}" }
trunks:
  - name: operator
    registrar: "sip:127.0.0.1:${trunkPort}"
    register: false
    outbound: { from: "4930999000", maxConcurrent: 200, callsPerSecond: 100 }
bots:
  echo: { url: "${botPeer.ready.botUrl}twilio", protocol: twilio }
store: { url: ${JSON.stringify(`sqlite:${join(dir, 'fsbridge.db')}`)} }
`;
    const loaded = loadConfig({ text, env: {} });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
    const clock = new LatenessClock(IDEAL_GAP_MS);
    daemon = new Daemon({ config: loaded.config, logger: silentLogger(), clock });
    const ports = await daemon.start();
    await Promise.race([daemon.ready, sleep(15_000).then(() => { throw new Error('the daemon did not reach FreeSWITCH in 15 s'); })]);
    await fsPeers.api(`global_setvar fsbridge_outbound_socket=127.0.0.1:${ports.outboundSocket}`);
    for (let i = 0; i < 100 && daemon.metrics.gauge('fsbridge_drachtio_connected', '').get() !== 1; i++) await sleep(50);
    if (daemon.metrics.gauge('fsbridge_drachtio_connected', '').get() !== 1) throw new Error('the daemon did not connect to drachtio-server in 5 s');

    const idle = await idleLoop(quick ? 2000 : 3000);
    const starts: { atMs: number; user: string }[] = [];
    daemon.calls.on('call', (c) => { if (c.init.direction === 'outbound') starts.push({ atMs: epochNow(), user: c.init.to }); });
    const retry = Object.fromEntries(['busy', 'no-answer', 'failed', 'machine', 'bot-unreachable'].map((k) => [k, { delaySec: 0, maxAttempts: 1 }]));
    const stopLoop = await loopMonitor();
    const cpu0 = {
      daemon: process.cpuUsage(), fs: cpuSec(fsPeers.child.pid), bot: cpuSec(botPeer.child.pid), drachtio: cpuSec(drachtioPid), sipp: cpuSec(trunk.child.pid), at: now(),
    };
    clock.recording = true;
    await fsPeers.eslStats(true);
    const created = await api(ports.api, 'POST', '/v1/campaigns', {
      name: 'bench 50 cps', bot: 'echo', trunk: 'operator', contactsCsv: contactsCsv(contacts), defaultCountry: 'US', ringTimeoutSec: 10,
      pacing: { callsPerSecond: CPS, maxConcurrent: 100 }, retry,
    });
    if (created.status !== 201) throw new Error(`POST /v1/campaigns answered ${created.status}: ${JSON.stringify(created.body)}`);
    const id = created.body.id as string;
    let view: { state: string; counts: Record<string, number> } = { state: 'running', counts: {} };
    const deadline = now() + (contacts / CPS) * 3000 + 30_000;
    let sippCpu = cpu0.sipp;
    while (now() < deadline) {
      await sleep(250);
      // sipp exits once its -m calls are done: its CPU is read while it runs
      const sc = cpuSec(trunk.child.pid);
      if (Number.isFinite(sc)) sippCpu = sc;
      view = (await api(ports.api, 'GET', `/v1/campaigns/${id}`)).body;
      if (view.state === 'completed' || ((view.counts.pending ?? 0) === 0 && (view.counts.dialling ?? 0) === 0)) break;
    }
    clock.recording = false;
    const loop = stopLoop();
    const tap = await fsPeers.eslStats(true);
    const wall = (now() - cpu0.at) / 1000;
    const d = process.cpuUsage(cpu0.daemon);
    const pct = (a: number, b: number) => (100 * (b - a)) / wall;
    const cpu = {
      daemon: (100 * (d.user + d.system)) / 1e6 / wall, freeswitchTwin: pct(cpu0.fs, cpuSec(fsPeers.child.pid)), bot: pct(cpu0.bot, cpuSec(botPeer.child.pid)),
      drachtio: real ? pct(cpu0.drachtio, cpuSec(drachtioPid)) : null, sipp: pct(cpu0.sipp, Number.isFinite(cpuSec(trunk.child.pid)) ? cpuSec(trunk.child.pid) : sippCpu),
    };
    const errors: Record<string, number> = {};
    for (const code of ['SIP_OUTBOUND_QUEUE_FULL', 'SIP_OUTBOUND_FAILED', 'CAMPAIGN_STORE_FAILED', 'BOT_CONNECT_FAILED', 'SIP_DRACHTIO_LOST', 'ESL_COMMAND_TIMEOUT']) {
      const n = daemon.metrics.errorCount(code);
      if (n > 0) errors[code] = n;
    }
    await Promise.race([daemon.close(), sleep(30_000)]);
    daemon = undefined;
    // sipp exits by itself after its -m calls (its files complete); else it is stopped
    await Promise.race([new Promise<void>((r) => (trunk!.child.exitCode !== null ? r() : trunk!.child.once('exit', () => r()))), sleep(10_000)]);
    await stopChild(trunk.child, 'SIGINT');

    const db = new BetterSqlite3(join(dir, 'fsbridge.db'), { readonly: true });
    const answered = db.prepare("SELECT answered_at AS a, connected_at AS c FROM calls WHERE direction = 'outbound' AND answered_at IS NOT NULL").all() as { a: number; c: number | null }[];
    const attempts = Object.fromEntries((db.prepare('SELECT outcome AS o, COUNT(*) AS n FROM campaign_attempts GROUP BY outcome').all() as { o: string | null; n: number }[]).map((x) => [x.o ?? 'none', x.n]));
    db.close();
    const invites = existsSync(trunk.messages) ? parseSippInvites(readFileSync(trunk.messages, 'utf8')) : [];
    const logged = existsSync(join(dir, 'trunk-invites.log')) ? (readFileSync(join(dir, 'trunk-invites.log'), 'utf8').match(/^INVITE /gm) ?? []).length : 0;
    const campInv = invites.filter((i) => !base.users.has(i.user));
    const atTrunk = firstBy(campInv);
    const started = firstBy(starts);
    let path: DialPath | null = null;
    const logFile = join(drachtioDir, 'log', 'drachtio.log');
    if (real && existsSync(logFile)) {
      const dr = parseDrachtioInvites(readFileSync(logFile, 'utf8')).filter((x) => started.has(x.user));
      const fromFs = firstBy(dr.filter((x) => x.dir === 'recv'));
      const toTrunk = firstBy(dr.filter((x) => x.dir === 'send' && x.peerPort === trunkPort));
      path = {
        freeswitchLegMs: dist(delays(started, fromFs)), b2buaMs: dist(delays(fromFs, toTrunk)), wireMs: dist(delays(toTrunk, atTrunk)),
        freeswitchInvites: rateOf([...fromFs.values()]),
      };
    }
    const note = real
      ? 'the real drachtio-server of ../shared/realfs (v0.9.4-rc1, /opt/realfs; loglevel info, which logs every SIP message with its time)'
      : `the drachtio-server twin in the FreeSWITCH twin's process (the real one is not installed: ${missing.join(', ')})`;
    return {
      drachtio: real ? 'real' : 'twin', drachtioNote: note, contacts, cps: CPS,
      campaign: rateOf(campInv.map((i) => i.atMs)), baseline: rateOf(invites.filter((i) => base.users.has(i.user)).map((i) => i.atMs)), baselineAnswered: base.answered,
      dialer: rateOf(starts.map((x) => x.atMs)), timerLateMs: dist(clock.lateMs), setupMs: dist(delays(started, atTrunk)), path,
      esl: tap && tap.commands > 0 ? {
        commands: tap.commands, perCall: tap.commands / Math.max(1, starts.length), byVerb: tap.byVerb,
        perSec: tap.commands / Math.max(0.001, (tap.lastAtMs - tap.firstAtMs) / 1000), replyMs: dist(tap.replyMs), turnaroundMs: dist(tap.turnaroundMs),
      } : null,
      answerToBotMs: dist(answered.flatMap((x) => (x.c === null ? [] : [x.c - x.a]))), answeredNotConnected: answered.filter((x) => x.c === null).length,
      outcomes: view.counts, attempts, sippInvitesLogged: logged, loop, idle, cpu, errors, wallSec: (now() - t0) / 1000,
    };
  } finally {
    if (daemon) await Promise.race([daemon.close(), sleep(30_000)]).catch(() => {});
    await stopChild(trunk?.child, 'SIGINT');
    await fsPeers?.stop().catch(() => {});
    await botPeer?.stop().catch(() => {});
    if (drachtioStarted) await runRealfsScript('drachtio.sh', ['stop', '--dir', drachtioDir], 30_000).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ driver and format

/** Runs the three parts. Part 3 needs sipp; without it the live part is skipped with the reason. */
export async function runCampaignBench(opts: { quick: boolean }): Promise<CampaignBenchResult> {
  const t0 = now();
  const load0 = loadavg()[0];
  const quick = opts.quick;
  const n = quick ? 20_000 : 100_000;
  const imp = await importPart(n, quick ? 1 : 3);
  const store = await storePart(imp.csv, imp.contacts);
  // the dialer's flatness always uses the full 100,000 (the point of the measurement)
  const dialerContacts = n === 100_000 ? imp.contacts : (() => {
    const r = importContacts({ csv: contactsCsv(100_000) }, 'US');
    if (!r.ok) throw new Error('import failed');
    return r.contacts;
  })();
  const dialer = await dialerPart(dialerContacts, quick);
  let live: LiveFigures | null = null;
  let liveNote: string | null = null;
  if (!runnable('sipp', ['-v'])) liveNote = 'Not run: sipp not installed (apt-get install sip-tester).';
  else {
    try {
      live = await livePart(quick ? 200 : 1000, quick);
    } catch (err) {
      liveNote = `Not run: ${(err as Error).message}`;
    }
  }
  return { quick, cpus: cpus().length, import: imp.figures, store: store.rows, storeNotes: store.notes, dialer, live, liveNote, wallSec: (now() - t0) / 1000, load: [load0, loadavg()[0]] };
}

/** Whether `cmd` can be run (found on PATH). */
function runnable(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore', timeout: 5000 }).error === undefined;
}

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(1)}×` : '–');
const int = (x: number): string => x.toLocaleString('en-US');

/** The result as the body of a markdown section (its `###` parts; bench/run.ts adds `## Campaigns`). */
export function formatCampaignBench(r: CampaignBenchResult): string {
  const i = r.import;
  const out: string[] = [
    `${r.cpus} cores${r.quick ? ', quick run' : ''}; ${f0(r.wallSec)} s; 1-minute load average ${f2(r.load[0])} before, ${f2(r.load[1])} after (anything above ~0 is other work competing for the cores). \`node dist/bench/campaigns.js${r.quick ? ' --quick' : ''}\`.`,
    '',
    `### Import of ${int(i.contacts)} contacts`,
    '',
    `CSV of ${int(i.contacts)} rows (${f1(i.csvBytes / MB)} MB: number, name, account; numbers of ${CONTACT_ZONES.length} zones in turn (${CONTACT_ZONES.join(', ')}), a quarter of the New York ones written nationally), ` +
      `\`importContacts(csv, 'US')\` (CSV parse + E.164 + zone; median of ${i.runs}). Baseline: \`JSON.parse\` of the same contacts as the JSON \`contacts\` array ` +
      `(${f1(i.jsonBytes / MB)} MB), same process.`,
    '',
    '| step | ms | µs/contact | vs JSON.parse |',
    '|---|---|---|---|',
    `| importContacts (parse + E.164 + zone) | ${f0(i.importMs)} | ${f1((i.importMs * 1000) / i.contacts)} | ${ratio(i.importMs, i.jsonParseMs)} |`,
    `| of which parseCsv alone | ${f0(i.csvParseMs)} | ${f2((i.csvParseMs * 1000) / i.contacts)} | ${ratio(i.csvParseMs, i.jsonParseMs)} |`,
    `| baseline: JSON.parse | ${f0(i.jsonParseMs)} | ${f2((i.jsonParseMs * 1000) / i.contacts)} | 1.0× |`,
    '',
    `Result: ${int(i.stored)} contacts, ${i.invalid} invalid, ${i.duplicates} duplicates. Memory: heap +${f0(i.heapGrowthMb)} MB right after the import ` +
      `(garbage included), ${f0(i.retainedMb)} MB kept by the result after a GC; RSS ${f0(i.rssBeforeMb)} MB before, high-water mark ${f0(i.peakRssMb)} MB after. ` +
      `importContacts() alone is synchronous: the event loop stood still for ${f0(i.loopMaxMs)} ms (longest delay measured around it). ` +
      `The API runs importContactsYielding(), which lets the loop run every 2,000 contacts: ${f0(i.yieldingMs)} ms in all, longest event-loop delay ${f0(i.yieldingLoopMaxMs)} ms.`,
    '',
    `### Storing them (CampaignService.create → CampaignStore.create)`,
    '',
    'Store phase timed inside CampaignStore.create; "create" is the whole API call (the import again, the store, the dialer\'s load). ' +
      'Baseline: the same rows with the raw driver (better-sqlite3 prepared / pg parameterised 500-row INSERTs, 4 per transaction), into a fresh database of the same schema. ' +
      'Event-loop delay sampled during the store phase; idle = the same process doing nothing for as long.',
    '',
    '| store | contacts | create ms | store ms | rows/s | baseline ms | store vs baseline | loop delay p99 / max ms | idle p99 / max ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.store.map((s) => `| ${s.backend} | ${int(s.contacts)} | ${f0(s.createMs)} | ${f0(s.storeMs)} | ${int(Math.round(s.contacts / (s.storeMs / 1000)))} | ${f0(s.baselineMs)} | ${ratio(s.storeMs, s.baselineMs)} | ` +
      `${f1(s.loopP99Ms)} / ${f1(s.loopMaxMs)} | ${f1(s.idleP99Ms)} / ${f1(s.idleMaxMs)} |`),
    ...(r.storeNotes.length ? ['', ...r.storeNotes] : []),
    '',
  ];
  const d = r.dialer;
  const small = d.rows[0];
  const large = d.rows[1];
  out.push(
    '### The dialer: cost per started call, and no scan of the list',
    '',
    'CampaignDialer over SQLite (temp file) on a ManualClock, 1 ms of fake time per step at 1,000 calls/s (one start per tick), with a port whose dial answers at once: ' +
      'per started call the hopper refill (50 contacts, amortised), DNC check (10,000 numbers listed, none of them dialled), per-number cap check (perNumberPerDay 2), ' +
      'calling-window check (08:00–21:00 local, every day), the attempt stored in a transaction, then its outcome stored. Wall time per call of the whole loop ' +
      `(tick, store, the bench's own stepping), after ${DIALER_WARMUP} untimed calls; the median of timed rounds of ${ROUND_CALLS} calls (${ROUND_CALLS_DEFERRING} with deferrals), the two sizes taking turns round by round.`,
    '',
    '| scenario | contacts | calls | µs per started call | deferrals | hopper refills | µs per decision |',
    '|---|---|---|---|---|---|---|',
    ...d.rows.map((x) => `| ${x.label} | ${int(x.contacts)} | ${x.calls} | ${f0(x.perCallUs)} | ${x.deferrals} | ${x.refills} | ${f0(x.perDecisionUs)} |`),
    '',
    `100,000 against 1,000 contacts: ${ratio(large.perCallUs, small.perCallUs)} the time per call (a scan of the list would be ~100×). ` +
      'SQLite\'s plans for the queries of a decision:',
    '',
    ...d.plans.map((p) => `- ${p.query}: \`${p.plan}\``),
  );
  if (d.allClosed) {
    const a = d.allClosed;
    out.push('', `Every contact's window closed (Sundays only, on a Wednesday), ${int(a.contacts)} contacts: the first tick deferred ${int(a.deferred)} of them in ` +
      `${f0(a.tickMs)} ms (${f1((a.tickMs * 1000) / Math.max(1, a.deferred))} µs each); the longest event-loop delay meanwhile was ${f0(a.loopMaxMs)} ms` +
      '. The dialer holds back the due contacts of a zone whose window is closed in statements of up to 2,000, at most four a tick, and a tick ' +
      'looks at no more than 200 contacts before the event loop gets a turn: the rest are deferred by the ticks that follow.');
  }
  out.push('');
  out.push(`### A campaign at ${CPS} calls/s through drachtio-server to a sipp trunk`, '');
  const l = r.live;
  if (!l) {
    out.push(r.liveNote ?? 'Not run.', '');
    return out.join('\n');
  }
  const row = (name: string, x: RateFigures) => `| ${name} | ${x.invites} | ${f2(x.spanSec)} | ${f1(x.rate)} | ${f1(x.gaps.mean)} | ${f1(x.gaps.p50)} / ${f1(x.gaps.p95)} / ${f1(x.gaps.p99)} / ${f1(x.gaps.max)} | ${f1(x.rmsVsIdealMs)} |`;
  const dd = (x: Dist) => `${f1(x.p50)} / ${f1(x.p95)} / ${f1(x.max)}`;
  const predicted = 1000 / (IDEAL_GAP_MS + l.timerLateMs.mean);
  out.push(
    `The Daemon in this process (media workers: auto), with ${l.drachtioNote}. The FreeSWITCH leg is the FreeSWITCH **twin** (its originate sends the ` +
      'INVITE to drachtio-server\'s SIP port as the real FreeSWITCH does; fsbridge relays it to the trunk as a B2BUA), in a child process; the echo bot ' +
      '(twilio) in another. Trunk: sipp `uas-trunk-campaign.xml -d 1000` (answers, hangs up 1 s after the ACK); INVITE arrival = sipp\'s `-trace_msg` ' +
      `timestamp (µs, when sipp reads the datagram). Campaign: ${int(l.contacts)} contacts, \`pacing: { callsPerSecond: ${l.cps}, maxConcurrent: 100 }\`, ` +
      'trunk `outbound: { maxConcurrent: 200, callsPerSecond: 100 }`, no windows, one attempt each. Baseline: as many calls from drachtio-srf `createUAC` ' +
      `on absolute ${IDEAL_GAP_MS} ms deadlines through the same drachtio-server to the same sipp, before the daemon started (${l.baselineAnswered} answered).`,
    '',
    `| INVITEs | count | span s | rate /s | mean gap ms | gap p50 / p95 / p99 / max ms | RMS vs ${IDEAL_GAP_MS} ms |`,
    '|---|---|---|---|---|---|---|',
    row('campaign: call starts in the daemon (its `call` events)', l.dialer),
    ...(l.path ? [row('campaign: FreeSWITCH\'s INVITEs read by drachtio-server', l.path.freeswitchInvites)] : []),
    row('campaign: INVITEs read by the trunk', l.campaign),
    row('baseline (paced createUAC): INVITEs read by the trunk', l.baseline),
    '',
    `Achieved at the trunk: ${f1(l.campaign.rate)} INVITEs/s of ${l.cps} (${f0((100 * l.campaign.rate) / l.cps)} %); the baseline path carried ${f1(l.baseline.rate)}/s. ` +
      `Gap RMS against ${IDEAL_GAP_MS} ms, campaign vs baseline: ${ratio(l.campaign.rmsVsIdealMs, l.baseline.rmsVsIdealMs)}. ` +
      `Contacts at the end: ${Object.entries(l.outcomes).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; sipp logged ${l.sippInvitesLogged} INVITEs in all` +
      `${Object.keys(l.errors).length ? `; error counters ${Object.entries(l.errors).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}.`,
    '',
    '| where the time went (ms) | p50 / p95 / max |',
    '|---|---|',
    `| dialer start → INVITE read by the trunk (${l.setupMs.n} calls) | ${dd(l.setupMs)} |`,
    ...(l.path ? [
      `| of which: dialer start → FreeSWITCH's INVITE read by drachtio-server (ESL originate, FreeSWITCH twin) | ${dd(l.path.freeswitchLegMs)} |`,
      `| of which: drachtio-server read it → sent the INVITE to the trunk (fsbridge's B2BUA) | ${dd(l.path.b2buaMs)} |`,
      `| of which: drachtio-server sent it → sipp read it | ${dd(l.path.wireMs)} |`,
    ] : []),
    `| callee answered → bot connected (${l.answerToBotMs.n} calls; ${l.answeredNotConnected} answered calls ended before their bot connected) | ${dd(l.answerToBotMs)} |`,
    `| daemon timers of ≤ ${IDEAL_GAP_MS} ms (the dialer's pacing waits): fired late by (${l.timerLateMs.n} timers, mean ${f1(l.timerLateMs.mean)}) | ${dd(l.timerLateMs)} |`,
    ...(l.esl ? [
      `| ESL control connection: the FreeSWITCH twin's reply to a command (${l.esl.replyMs.n} commands) | ${dd(l.esl.replyMs)} |`,
      `| ESL control connection: the daemon's turnaround from a reply to its next command (gaps < 100 ms) | ${dd(l.esl.turnaroundMs)} |`,
    ] : []),
    '',
    `Attempts by outcome: ${Object.entries(l.attempts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.`,
    '',
    `The dialer keeps its starts on a ${IDEAL_GAP_MS} ms grid (src/campaigns/dialer.ts \`nextStart\`): a timer that fires late does not push the later starts back. ` +
      `A dialer that anchored each start to the moment its timer fired would lose each start's lateness for good: ` +
      `1000 / (${IDEAL_GAP_MS} + ${f1(l.timerLateMs.mean)}) = ${f1(predicted)} starts/s at this run's timer lateness; measured ${f1(l.dialer.rate)}.`,
    '',
    ...(l.esl ? [
      `fsbridge's ESL control connection (measured by a pass-through in the twin's process): ${int(l.esl.commands)} commands for ${l.dialer.invites} calls, ` +
        `${f1(l.esl.perCall)} per call (${Object.entries(l.esl.byVerb).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}); it carried ` +
        `${f0(l.esl.perSec)} commands/s; ${l.cps} calls/s need ${f0(l.esl.perCall * l.cps)}/s. esl-lite sends one command at a time and waits for its reply, ` +
        'so the connection carries at most one command per round trip (the twin\'s reply plus the daemon\'s turnaround, above), and a call\'s originate and ' +
        'uuid_audio_stream queue behind the other calls\' commands' +
        (l.path ? `: the FreeSWITCH leg took ${f0(l.path.freeswitchLegMs.p50)} ms at the median while the twin answered a command in ${f1(l.esl.replyMs.p50)} ms.` : '.'),
      '',
    ] : []),
    `Daemon event-loop delay during the campaign mean / p99 / max ${f1(l.loop.mean)} / ${f1(l.loop.p99)} / ${f1(l.loop.max)} ms; the same daemon idle before it ` +
      `${f1(l.idle.mean)} / ${f1(l.idle.p99)} / ${f1(l.idle.max)} ms (${ratio(l.loop.p99, l.idle.p99)} at p99). CPU during the campaign, % of one core: daemon process ` +
      `(main thread + media workers) ${f0(l.cpu.daemon)}, FreeSWITCH twin ${f0(l.cpu.freeswitchTwin)}, echo bot ${f0(l.cpu.bot)}, ` +
      `${l.cpu.drachtio === null ? 'drachtio twin (in the FreeSWITCH twin\'s process)' : `drachtio-server ${f0(l.cpu.drachtio)}`}, sipp ${f0(l.cpu.sipp)}.`,
    '',
  );
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await runCampaignBench({ quick: process.argv.includes('--quick') });
  process.stdout.write(`## Campaigns\n\n${formatCampaignBench(r)}\n`);
  process.exit(0);
}
