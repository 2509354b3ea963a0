/**
 * The fsbridge configuration: its TypeScript types and the one schema description table that the
 * validator (load.ts), the redactor (secrets.ts) and the documentation sync test all read.
 */

/** Recursively read-only view of a value; the loader returns the configuration deep-frozen. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type PlaybackMode = 'pipe' | 'file' | 'stream';
export type BotProtocol = 'twilio' | 'exotel' | 'native';
export type DisconnectPolicy = 'hangup' | 'fallback' | 'reconnect';
export type BotEncoding = 'l16' | 'mulaw';

export interface LogConfig {
  level: LogLevel;
  /** Strip phone numbers and DTMF digits from log lines. */
  redactPersonalData: boolean;
}

export interface EslConfig {
  host: string;
  port: number;
  /** Secret (resolved value). */
  password: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
}

export interface FreeswitchConfig {
  esl: EslConfig;
  outboundSocket: { host: string; port: number; handshakeTimeoutMs: number };
  playback: PlaybackMode;
  /** Rate asked of mod_audio_stream, in Hz. */
  sampleRate: 8000 | 16000;
}

export interface MediaConfig {
  /** host:port the media websocket server binds. */
  listen: string;
  /** host:port put in the ws:// URL given to FreeSWITCH; defaults to `listen`. */
  advertise: string;
  maxMessageBytes: number;
  segmentMs: number;
  playoutBufferMs: number;
  /** Directory of the playback pipes ('pipe' mode). */
  pipeDir: string;
  /** Audio written ahead of FreeSWITCH in a playback pipe. */
  pipeLeadMs: number;
  /** Media worker threads (0: the media loop runs in the main thread; auto: one per core). */
  workers: number | 'auto';
}

export interface DrachtioConfig {
  host: string;
  port: number;
  /** Secret (resolved value). */
  secret: string;
  sipProfileUri: string;
}

export interface TrunkConfig {
  name: string;
  registrar: string;
  secondaryRegistrar?: string;
  username?: string;
  /** Secret (resolved value). */
  password?: string;
  expiresSec: number;
  register: boolean;
  inbound: { allow: string[]; digest: boolean };
  outbound: { maxConcurrent: number; callsPerSecond: number; queueMax: number; from?: string };
  /** The tenant the trunk belongs to (the loader always sets it; `default`). */
  tenant?: string;
}

export interface BotConfig {
  url: string;
  protocol: BotProtocol;
  /** Extra HTTP headers sent on the websocket upgrade; values are secrets. */
  headers: Record<string, string>;
  connectTimeoutMs: number;
  onDisconnect: DisconnectPolicy;
  fallbackAudio?: string;
  sampleRate: 8000 | 16000;
  encoding: BotEncoding;
  tls: { caFile?: string; rejectUnauthorized: boolean };
  /** Where the bot may transfer a caller (native `transfer`): anchored regular expressions. */
  transfer: { allow: string[] };
  /** The tenant the bot (and its calls and routes) belongs to (the loader always sets it; `default`). */
  tenant?: string;
  statusCallback?: StatusCallbackConfig;
  /** Record this bot's calls (encrypted; see recordings). */
  record: boolean;
  /** Send speech_started / speech_stopped to twilio and exotel bots too (native bots always get them). */
  speechEvents: boolean;
  /** Local barge-in: caller speech clears the bot's playback at once. */
  bargeIn: boolean;
  /** After this much caller silence (no speech while the bot is not playing): a prompt, or the end of the call. */
  silenceTimeout?: { afterSec: number; action: 'hangup' | 'prompt'; prompt?: string; prompts: number };
  /** A line that carries no audio (no RTP, or samples that never move) this long ends the call; 0: never. */
  deadLineSec: number;
  /** Comfort noise to the caller while the bot is silent ('pipe' playback), and optional ambience under its speech. */
  comfortNoise?: { levelDbfs: number; ambienceDbfs?: number };
}

/** Status callbacks (Twilio's call progress events). */
export interface StatusCallbackConfig {
  url: string;
  events: ('initiated' | 'ringing' | 'answered' | 'completed' | 'campaign')[];
  format: 'twilio' | 'json';
  /** Secret (resolved value): the signature's key. */
  secret: string;
}

export interface TenantConfig {
  /** Most simultaneous calls of the tenant (absent: only calls.maxConcurrent applies). */
  maxConcurrentCalls?: number;
  /** Most calls offered per UTC day (absent: no cap). */
  callsPerDay?: number;
  statusCallback?: StatusCallbackConfig;
  /** Days the tenant's recordings are kept (absent: recordings.retentionDays). */
  recordingRetentionDays?: number;
  /** Most campaign attempts to one number per UTC day, across the tenant's campaigns (absent: no cap). */
  callsPerNumberPerDay?: number;
}

export interface RouteConfig {
  did: string;
  bot: string;
  trunk?: string;
  /** Record calls of this route (overrides the bot's `record`). */
  record?: boolean;
  statusCallback?: StatusCallbackConfig;
}

export interface ApiConfig {
  listen: string;
  /** Secret (resolved value): bearer token for /v1. */
  token: string;
  twilio?: { accountSid: string; authToken: string };
}

export interface CallsConfig {
  maxConcurrent: number;
  /** Optional JSON-lines file of ended calls (for log shippers); the store holds the records. */
  recordFile?: string;
  drainTimeoutMs: number;
  answerTimeoutMs: number;
}

export interface StoreConfig {
  /** `sqlite:PATH` or `postgres://user@host:port/db` (no password inside). */
  url: string;
  /** Secret (resolved value): the PostgreSQL password. */
  password?: string;
  /** This node's name in the store; the host name when absent. */
  nodeId?: string;
  queueMax: number;
}

/** This node is one of several sharing one PostgreSQL store behind a SIP load balancer. */
export interface ClusterConfig {
  /** A node whose heartbeat is older than this (s) is taken for dead; hopper leases last as long. */
  leaseSec: number;
  /** host:port of the load balancer: the Contact of the trunk REGISTERs. */
  sipAddress?: string;
}

export interface RecordingsConfig {
  /** Where the encrypted recordings are written (`<dir>/<tenant>/<date>/<callId>.fsbrec`). */
  dir: string;
  /** Secret (resolved value): the master key, 32 bytes as 64 hex digits or base64. */
  masterKey?: string;
  /** Secret: the master key being replaced (its data keys are wrapped again at start). */
  previousMasterKey?: string;
  /** A tenant's data key is replaced by a new one after this many days. */
  dataKeyDays: number;
  /** Days recordings are kept; 0: until erased. */
  retentionDays: number;
}

/** The whole validated configuration, defaults applied. */
export interface Config {
  log: LogConfig;
  freeswitch: FreeswitchConfig;
  media: MediaConfig;
  drachtio?: DrachtioConfig;
  trunks: TrunkConfig[];
  tenants: Record<string, TenantConfig>;
  bots: Record<string, BotConfig>;
  routes: RouteConfig[];
  api: ApiConfig;
  calls: CallsConfig;
  store: StoreConfig;
  cluster?: ClusterConfig;
  recordings: RecordingsConfig;
}

// ---------------------------------------------------------------------------------------------
// Schema description table
// ---------------------------------------------------------------------------------------------

/** Formats a string value can be required to have; checked in load.ts. */
export type StringFormat =
  | 'host' // IPv4, IPv6 or DNS name
  | 'hostport' // host:port or [v6]:port, port 1-65535
  | 'listen' // like hostport, but port 0 (any free port) is allowed
  | 'sipUri' // sip: or sips: URI
  | 'wsUrl' // ws:// or wss:// URL
  | 'regex' // a JavaScript regular expression
  | 'cidr' // IPv4 or IPv6 address or CIDR block
  | 'did' // optional + then digits
  | 'name' // letters, digits, . _ -
  | 'path' // non-empty file path
  | 'storeUrl' // sqlite:PATH or postgres://user@host:port/db without a password
  | 'httpUrl' // http:// or https:// URL
  | 'text'; // any non-empty string

interface NodeBase {
  /** One sentence for docs/configuration.md. */
  doc: string;
  /** Must be present (no default). */
  required?: boolean;
  /** Value used when the key is absent. */
  default?: unknown;
  /** How the default is written in the docs when it is computed (e.g. "same as media.listen"). */
  defaultDoc?: string;
  /** Unit shown in the docs (ms, s, bytes, Hz, ...). */
  unit?: string;
}
export interface StringNode extends NodeBase { kind: 'string'; format: StringFormat }
/** A secret: literal, `env:NAME` or `cred:NAME`; never printed, never logged. */
export interface SecretNode extends NodeBase { kind: 'secret' }
/** `auto`: the word `auto` is accepted too (a value the daemon computes, e.g. one per CPU core). */
export interface IntegerNode extends NodeBase { kind: 'integer'; min: number; max: number; multipleOf?: number; auto?: boolean }
export interface NumberNode extends NodeBase { kind: 'number'; min: number; max: number }
export interface BooleanNode extends NodeBase { kind: 'boolean' }
export interface EnumNode extends NodeBase { kind: 'enum'; values: readonly (string | number)[] }
export interface ObjectNode extends NodeBase {
  kind: 'object';
  fields: Readonly<Record<string, SchemaNode>>;
  /** Absent section stays absent (instead of being filled with defaults). */
  optional?: boolean;
}
export interface ListNode extends NodeBase { kind: 'list'; item: SchemaNode; maxItems: number }
export interface MapNode extends NodeBase { kind: 'map'; value: SchemaNode; maxEntries: number; keyFormat: 'name' | 'header' }
export type SchemaNode =
  | StringNode | SecretNode | IntegerNode | NumberNode | BooleanNode | EnumNode | ObjectNode | ListNode | MapNode;

const MAX_MS = 3_600_000;
const statusCallback = (whose: string): ObjectNode => ({
  kind: 'object', optional: true, doc: `Status callbacks of ${whose} calls: a signed POST per event, in Twilio's form fields or JSON, from a persistent outbox.`,
  fields: {
    url: { kind: 'string', format: 'httpUrl', required: true, doc: 'http:// or https:// URL that receives the POSTs.' },
    events: {
      kind: 'list', maxItems: 5, default: ['initiated', 'ringing', 'answered', 'completed'],
      item: { kind: 'enum', values: ['initiated', 'ringing', 'answered', 'completed', 'campaign'], doc: 'An event.' },
      doc: 'Events sent (Twilio\'s StatusCallbackEvent names; ringing: outbound dials only; campaign: the lifecycle of the tenant\'s (or bot\'s) campaigns and each contact\'s final state, always as JSON).',
    },
    format: { kind: 'enum', values: ['twilio', 'json'], default: 'twilio', doc: 'twilio: form fields signed with X-Twilio-Signature; json: a JSON body signed with X-Fsbridge-Signature (HMAC-SHA256).' },
    secret: { kind: 'secret', required: true, doc: 'The signature\'s key: for twilio, the auth token your handler validates with.' },
  },
});
const port = (def: number, doc: string): IntegerNode => ({ kind: 'integer', min: 1, max: 65535, default: def, doc });
const ms = (def: number, min: number, max: number, doc: string): IntegerNode =>
  ({ kind: 'integer', min, max, default: def, unit: 'ms', doc });

/** The schema of the configuration file. Keys here are the only keys the loader accepts. */
export const CONFIG_SCHEMA: ObjectNode = {
  kind: 'object',
  doc: 'The fsbridge configuration file.',
  fields: {
    log: {
      kind: 'object', doc: 'Logging.',
      fields: {
        level: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'Lowest level written.' },
        redactPersonalData: { kind: 'boolean', default: false, doc: 'Remove phone numbers and DTMF digits from log lines (secrets are always removed).' },
      },
    },
    freeswitch: {
      kind: 'object', doc: 'How fsbridge reaches FreeSWITCH.',
      fields: {
        esl: {
          kind: 'object', doc: 'Inbound Event Socket connection to mod_event_socket.',
          fields: {
            host: { kind: 'string', format: 'host', default: '127.0.0.1', doc: 'Address of mod_event_socket.' },
            port: port(8021, 'Port of mod_event_socket.'),
            password: { kind: 'secret', required: true, doc: 'Event Socket password (event_socket.conf.xml `password`).' },
            commandTimeoutMs: ms(5000, 100, 600_000, 'Time allowed for one api/bgapi reply before the command fails.'),
            connectTimeoutMs: ms(3000, 100, 600_000, 'Time allowed to connect and authenticate.'),
            reconnect: {
              kind: 'object', doc: 'Backoff after a lost connection (capped, jittered).',
              fields: {
                initialDelayMs: ms(200, 10, 60_000, 'First reconnect delay; doubles on each failure.'),
                maxDelayMs: ms(5000, 100, 600_000, 'Cap on the reconnect delay; at least initialDelayMs.'),
              },
            },
          },
        },
        outboundSocket: {
          kind: 'object', doc: 'Server for the dialplan `socket` application (outbound Event Socket).',
          fields: {
            host: { kind: 'string', format: 'host', default: '127.0.0.1', doc: 'Address the outbound-socket server binds.' },
            port: { kind: 'integer', min: 0, max: 65535, default: 8084, doc: 'Port the outbound-socket server binds; the dialplan\'s `socket ${fsbridge_outbound_socket} async full` must name it (port 0: any free port).' },
            handshakeTimeoutMs: ms(5000, 100, 600_000, 'Time allowed for the connect/channel-data handshake of one call.'),
          },
        },
        playback: { kind: 'enum', values: ['pipe', 'file', 'stream'], default: 'pipe', doc: 'How bot audio is played: `pipe` (FreeSWITCH on the same host: one continuous playback per call of a named pipe in media.pipeDir that fsbridge feeds in real time; conversational), `file` (FreeSWITCH on another host, community mod_audio_stream: segments played with uuid_broadcast; each segment costs a gap, so continuous bot speech falls behind: fine for prompts, not for conversation) or `stream` (module builds that inject audio in real time). docs/media-playback.md.' },
        sampleRate: { kind: 'enum', values: [8000, 16000], default: 8000, unit: 'Hz', doc: 'Sample rate asked of mod_audio_stream.' },
      },
    },
    media: {
      kind: 'object', doc: 'Websocket server that mod_audio_stream connects to.',
      fields: {
        listen: { kind: 'string', format: 'listen', default: '127.0.0.1:8090', doc: 'host:port the media server binds (port 0: any free port).' },
        advertise: { kind: 'string', format: 'hostport', defaultDoc: 'same as media.listen', doc: 'host:port written in the ws:// URL given to FreeSWITCH; must not be a wildcard address.' },
        maxMessageBytes: { kind: 'integer', min: 1024, max: 16_777_216, default: 65536, unit: 'bytes', doc: 'Largest websocket message accepted from FreeSWITCH.' },
        segmentMs: { kind: 'integer', min: 20, max: 10_000, multipleOf: 20, default: 200, unit: 'ms', doc: 'Length of one playback segment in `file` mode (a multiple of 20).' },
        playoutBufferMs: ms(60_000, 1000, 600_000, 'Most bot audio held per call before the oldest is dropped; at least segmentMs.'),
        pipeDir: { kind: 'string', format: 'path', default: '/run/fsbridge', doc: 'Directory of the playback pipes (`pipe` mode): created at start if missing; FreeSWITCH\'s user must be able to read it (docs/media-playback.md: permissions, systemd RuntimeDirectory, not under a PrivateTmp /tmp).' },
        pipeLeadMs: { kind: 'integer', min: 20, max: 200, multipleOf: 20, default: 40, unit: 'ms', doc: 'Audio kept written ahead of FreeSWITCH in the playback pipe: what the caller hears is this much (plus one frame) behind the bot, and a clear is heard within it.' },
        workers: { kind: 'integer', min: 0, max: 64, auto: true, default: 'auto', unit: 'threads', doc: 'Worker threads that carry the calls\' media (mod_audio_stream websocket, bot connection, codec, playback): `auto` is one per CPU core; 0 runs it in the main thread. Worker i listens on media.listen\'s port + i (and is advertised at media.advertise\'s port + i); a worker that dies ends only its calls and is started again. docs/architecture.md.' },
      },
    },
    drachtio: {
      kind: 'object', optional: true, doc: 'drachtio-server connection for SIP trunks; omit the section to run without trunks.',
      fields: {
        host: { kind: 'string', format: 'host', default: '127.0.0.1', doc: 'Address of drachtio-server\'s control port.' },
        port: port(9022, 'drachtio-server control port.'),
        secret: { kind: 'secret', required: true, doc: 'drachtio-server shared secret.' },
        sipProfileUri: { kind: 'string', format: 'sipUri', default: 'sip:127.0.0.1:5080', doc: 'SIP URI of the FreeSWITCH `fsbridge` profile that calls are bridged into.' },
      },
    },
    trunks: {
      kind: 'list', maxItems: 1000, default: [], doc: 'Operator SIP trunks.',
      item: {
        kind: 'object', doc: 'One trunk.',
        fields: {
          name: { kind: 'string', format: 'name', required: true, doc: 'Unique name (letters, digits, `.`, `_`, `-`), used in routes and logs.' },
          registrar: { kind: 'string', format: 'sipUri', required: true, doc: 'Registrar / proxy as a sip: or sips: URI.' },
          secondaryRegistrar: { kind: 'string', format: 'sipUri', doc: 'Fallback registrar used when the first does not answer.' },
          username: { kind: 'string', format: 'text', doc: 'Authentication user (quote numbers so leading zeros survive).' },
          password: { kind: 'secret', doc: 'Authentication password; needs username.' },
          expiresSec: { kind: 'integer', min: 60, max: 86_400, default: 600, unit: 's', doc: 'Registration lifetime asked of the registrar.' },
          register: { kind: 'boolean', default: true, doc: 'Send REGISTER for this trunk.' },
          inbound: {
            kind: 'object', doc: 'Who may send calls in on this trunk.',
            fields: {
              allow: { kind: 'list', maxItems: 1000, default: [], item: { kind: 'string', format: 'cidr', doc: 'Address or CIDR block.' }, doc: 'Source addresses or CIDR blocks allowed to send INVITE.' },
              digest: { kind: 'boolean', default: false, doc: 'Challenge inbound INVITEs with digest authentication (needs username and password).' },
            },
          },
          outbound: {
            kind: 'object', doc: 'Limits on calls out through this trunk.',
            fields: {
              maxConcurrent: { kind: 'integer', min: 1, max: 100_000, default: 30, unit: 'calls', doc: 'Most simultaneous outbound calls.' },
              callsPerSecond: { kind: 'number', min: 0.01, max: 1000, default: 5, unit: 'calls/s', doc: 'Most new outbound calls per second.' },
              queueMax: { kind: 'integer', min: 0, max: 100_000, default: 50, unit: 'calls', doc: 'Most outbound calls waiting for a slot; more are refused.' },
              from: { kind: 'string', format: 'text', doc: 'Caller number or SIP URI sent in From when the request gives none.' },
            },
          },
          tenant: { kind: 'string', format: 'name', default: 'default', doc: 'The tenant the trunk belongs to: API keys of another tenant do not see it, nor dial through it.' },
        },
      },
    },
    tenants: {
      kind: 'map', maxEntries: 10_000, keyFormat: 'name', default: {}, doc: 'Tenants (customers) by name, with their limits; `default` exists without being listed. Tenants can also be created through the API.',
      value: {
        kind: 'object', doc: 'One tenant.',
        fields: {
          maxConcurrentCalls: { kind: 'integer', min: 1, max: 100_000, unit: 'calls', doc: 'Most simultaneous calls of the tenant; more are refused (SIP 486, HTTP 429, TENANT_CONCURRENCY_LIMIT).' },
          callsPerDay: { kind: 'integer', min: 1, max: 10_000_000, unit: 'calls', doc: 'Most calls offered per UTC day; more are refused (SIP 486, HTTP 429, TENANT_DAILY_LIMIT).' },
          statusCallback: statusCallback('the tenant\'s'),
          recordingRetentionDays: { kind: 'integer', min: 0, max: 36_500, unit: 'days', doc: 'Days the tenant\'s recordings are kept before the purge removes them (0: until erased); absent: recordings.retentionDays.' },
          callsPerNumberPerDay: { kind: 'integer', min: 1, max: 100, unit: 'calls', doc: 'Most campaign attempts to one callee number per UTC day, across all the tenant\'s campaigns (a campaign\'s caps.perNumberPerDay can only lower it); absent: no cap.' },
        },
      },
    },
    bots: {
      kind: 'map', maxEntries: 10_000, keyFormat: 'name', default: {}, doc: 'Bots by name (letters, digits, `.`, `_`, `-`).',
      value: {
        kind: 'object', doc: 'One bot.',
        fields: {
          url: { kind: 'string', format: 'wsUrl', required: true, doc: 'Websocket URL of the bot (ws:// or wss://).' },
          protocol: { kind: 'enum', values: ['twilio', 'exotel', 'native'], required: true, doc: 'Media protocol the bot speaks.' },
          headers: {
            kind: 'map', maxEntries: 100, keyFormat: 'header', default: {},
            value: { kind: 'secret', doc: 'Header value.' },
            doc: 'Extra HTTP headers on the websocket upgrade; values may be env:/cred: references and are always redacted.',
          },
          connectTimeoutMs: ms(3000, 100, 60_000, 'Time allowed for the bot websocket to open.'),
          onDisconnect: { kind: 'enum', values: ['hangup', 'fallback', 'reconnect'], default: 'hangup', doc: 'What happens when the bot drops abnormally: hang up, play fallbackAudio then hang up, or reconnect once.' },
          fallbackAudio: { kind: 'string', format: 'path', doc: 'Audio file FreeSWITCH plays on disconnect; required when onDisconnect is fallback.' },
          sampleRate: { kind: 'enum', values: [8000, 16000], default: 8000, unit: 'Hz', doc: 'Audio rate towards the bot; twilio is always 8000.' },
          encoding: { kind: 'enum', values: ['l16', 'mulaw'], default: 'l16', doc: 'Audio encoding of native bots; twilio (μ-law) and exotel (L16) fix their own, so leave it l16 for them.' },
          tls: {
            kind: 'object', doc: 'TLS settings for wss:// URLs.',
            fields: {
              caFile: { kind: 'string', format: 'path', doc: 'PEM file of extra CA certificates to trust.' },
              rejectUnauthorized: { kind: 'boolean', default: true, doc: 'Refuse bots whose certificate does not verify.' },
            },
          },
          transfer: {
            kind: 'object', doc: 'Where a native bot may transfer the caller; nowhere unless allowed here.',
            fields: {
              allow: {
                kind: 'list', maxItems: 100, default: [],
                item: { kind: 'string', format: 'regex', doc: 'A regular expression the whole target must match.' },
                doc: 'Transfer targets allowed, as regular expressions matched against the whole target (e.g. "8[0-9]{3}"); empty: every transfer is refused (CALL_TRANSFER_DENIED).',
              },
            },
          },
          tenant: { kind: 'string', format: 'name', default: 'default', doc: 'The tenant the bot belongs to: its calls, and the routes to it, are that tenant\'s (API keys of another tenant cannot see them).' },
          statusCallback: statusCallback('the bot\'s'),
          record: { kind: 'boolean', default: false, doc: 'Record this bot\'s calls: stereo (caller left, bot right), encrypted at rest (see recordings); a route\'s `record`, a dialplan\'s `fsbridge_record` or the `record` of POST /v1/calls overrides it per call.' },
          speechEvents: { kind: 'boolean', default: false, doc: 'Send `speech_started` / `speech_stopped` to twilio and exotel bots too (their protocols have no such message); native bots always get them. A call\'s custom parameter `fsbridgeSpeechEvents=true` turns them on for that call.' },
          bargeIn: { kind: 'boolean', default: false, doc: 'Local barge-in: when the caller starts speaking while the bot\'s audio plays, fsbridge clears the playback at once (marks come back as after `clear`) and tells a native bot (`barge_in`).' },
          silenceTimeout: {
            kind: 'object', optional: true, doc: 'What happens after a stretch of caller silence (no speech while the bot is not playing); omit for nothing.',
            fields: {
              afterSec: { kind: 'integer', min: 1, max: 3600, required: true, unit: 's', doc: 'Seconds of caller silence that fire the timeout.' },
              action: { kind: 'enum', values: ['hangup', 'prompt'], default: 'hangup', doc: 'hangup: end the call (CALL_SILENCE_TIMEOUT); prompt: play `prompt`, and end the call at the timeout after the last prompt.' },
              prompt: { kind: 'string', format: 'path', doc: '16-bit PCM WAV (8 or 16 kHz) that fsbridge plays on a timeout through the call\'s playback; required when action is prompt.' },
              prompts: { kind: 'integer', min: 1, max: 10, default: 1, unit: 'prompts', doc: 'Prompts played (one per timeout) before a timeout ends the call.' },
            },
          },
          deadLineSec: { kind: 'integer', min: 0, max: 3600, default: 20, unit: 's', doc: 'A line that carries no audio this long ends the call (CALL_DEAD_LINE): mod_audio_stream delivers no caller audio at all, or samples that never move; 0: never.' },
          comfortNoise: {
            kind: 'object', optional: true, doc: 'Low-level noise to the caller instead of digital silence while the bot is silent (\'pipe\' playback only); omit for silence.',
            fields: {
              levelDbfs: { kind: 'number', min: -90, max: -30, default: -65, unit: 'dBFS', doc: 'Level (RMS) of the noise in the bot\'s silences.' },
              ambienceDbfs: { kind: 'number', min: -90, max: -20, unit: 'dBFS', doc: 'Level (RMS) of background ambience mixed under the bot\'s speech; absent: none.' },
            },
          },
        },
      },
    },
    routes: {
      kind: 'list', maxItems: 100_000, default: [], doc: 'Inbound routing by dialled number.',
      item: {
        kind: 'object', doc: 'One route.',
        fields: {
          did: { kind: 'string', format: 'did', required: true, doc: 'Dialled number, digits with an optional leading + (quote it in YAML).' },
          bot: { kind: 'string', format: 'name', required: true, doc: 'Name of the bot (a key of bots).' },
          trunk: { kind: 'string', format: 'name', doc: 'Only match calls arriving on this trunk (a trunks[].name).' },
          record: { kind: 'boolean', doc: 'Record the calls of this route (true) or not (false) whatever the bot\'s `record` says; needs recordings.masterKey.' },
          statusCallback: statusCallback('the route\'s'),
        },
      },
    },
    api: {
      kind: 'object', doc: 'HTTP control API.',
      fields: {
        listen: { kind: 'string', format: 'listen', default: '127.0.0.1:8080', doc: 'host:port the API binds (port 0: any free port).' },
        token: { kind: 'secret', required: true, doc: 'Bearer token required on /v1 requests.' },
        twilio: {
          kind: 'object', optional: true, doc: 'Enables the Twilio-compatible REST subset; omit to disable it.',
          fields: {
            accountSid: { kind: 'string', format: 'text', required: true, doc: 'AccountSid expected in request paths.' },
            authToken: { kind: 'secret', required: true, doc: 'Auth token checked with HTTP basic authentication.' },
          },
        },
      },
    },
    calls: {
      kind: 'object', doc: 'Call limits and records.',
      fields: {
        maxConcurrent: { kind: 'integer', min: 1, max: 100_000, default: 500, unit: 'calls', doc: 'Most simultaneous calls; more are refused (SIP 503).' },
        recordFile: { kind: 'string', format: 'path', doc: 'Optional file that also receives one JSON line per ended call (for log shippers); the store keeps the records either way.' },
        drainTimeoutMs: ms(30_000, 0, MAX_MS, 'On SIGTERM, how long calls may continue before the rest are hung up.'),
        answerTimeoutMs: ms(10_000, 1000, 300_000, 'How long FreeSWITCH may take to answer a trunk call that fsbridge bridges into it (inbound); the caller then gets 503. How long an outbound call may ring is the request\'s timeoutSec (POST /v1/calls).'),
      },
    },
    store: {
      kind: 'object', doc: 'The database of call records: SQLite in the state directory (embedded, the default) or PostgreSQL.',
      fields: {
        url: { kind: 'string', format: 'storeUrl', default: 'sqlite:/var/lib/fsbridge/fsbridge.db', doc: '`sqlite:PATH` (a file, created with its directory) or `postgres://user@host:port/database`; put the password in store.password, not in the URL.' },
        password: { kind: 'secret', doc: 'PostgreSQL password, usually env:NAME or cred:NAME; not used with SQLite.' },
        nodeId: { kind: 'string', format: 'name', defaultDoc: 'the host name', doc: 'This node\'s name in the store: the calls it left open after a crash are closed when a node of this name starts. Unique per daemon sharing one database.' },
        queueMax: { kind: 'integer', min: 1000, max: 10_000_000, default: 100_000, unit: 'writes', doc: 'Most record writes held in memory while the database is unreachable; beyond it the oldest are dropped (STORE_QUEUE_FULL).' },
      },
    },
    cluster: {
      kind: 'object', optional: true, doc: 'This node is one of several behind a SIP load balancer (Kamailio\'s dispatcher) sharing one PostgreSQL store (docs/scale-out.md): tenant, trunk and campaign limits hold across the nodes, campaign contacts are leased to one node at a time, and a dead node\'s calls and campaign attempts are taken over. Needs a PostgreSQL store.url; omit the section for a single node.',
      fields: {
        leaseSec: { kind: 'integer', min: 3, max: 3600, default: 30, unit: 's', doc: 'A node whose heartbeat (every leaseSec/3 s, at most 10 s) is older than this is taken for dead: another node closes its calls, frees its slots and resolves its campaign attempts. Campaign contacts in a node\'s hopper are leased to it for as long.' },
        sipAddress: { kind: 'string', format: 'hostport', defaultDoc: 'the registering node\'s drachtio-server', doc: 'host:port of the load balancer (Kamailio): the Contact of the trunk REGISTERs, which one node at a time sends for the whole cluster, so that the operator sends calls to the load balancer.' },
      },
    },
    recordings: {
      kind: 'object', doc: 'Call recordings (bots.<name>.record, routes[].record): stereo WAV, caller left and bot right, encrypted at rest with AES-256-GCM under per-tenant data keys wrapped by a master key (docs/recordings.md).',
      fields: {
        dir: { kind: 'string', format: 'path', default: '/var/lib/fsbridge/recordings', doc: 'Directory of the encrypted recordings (`<tenant>/<date>/<callId>.fsbrec`, mode 0600), created at start.' },
        masterKey: { kind: 'secret', doc: 'The master key: 32 random bytes as 64 hex digits or base64, usually cred:NAME (a systemd credential) — `openssl rand -hex 32`. Required when anything is recorded; a key that does not open the stored data keys stops the start (RECORDING_MASTER_KEY_WRONG).' },
        previousMasterKey: { kind: 'secret', doc: 'While rotating the master key: the old one. Data keys it wrapped are wrapped again with masterKey at start; then it can be removed.' },
        dataKeyDays: { kind: 'integer', min: 1, max: 3650, default: 30, unit: 'days', doc: 'A tenant\'s data key is replaced by a new one after this many days; older recordings stay readable with their own key.' },
        retentionDays: { kind: 'integer', min: 0, max: 36_500, default: 0, unit: 'days', doc: 'Days recordings are kept before the hourly purge removes them and their rows (0: until erased); tenants.<name>.recordingRetentionDays overrides it.' },
      },
    },
  },
};

/** One row of the flattened schema: what docs/configuration.md must list. */
export interface SchemaRow {
  /** Key path: `a.b`, `trunks[].name`, `bots.<name>.url`. */
  path: string;
  node: SchemaNode;
}

/**
 * Flattens the schema into rows in document order. Objects inside lists and maps are entered;
 * the list/map itself gets a row too. Map values of scalar kind (headers) get no row of their own.
 */
export function schemaRows(node: SchemaNode = CONFIG_SCHEMA, prefix = ''): SchemaRow[] {
  const rows: SchemaRow[] = [];
  if (node.kind === 'object') {
    for (const [key, child] of Object.entries(node.fields)) {
      const path = prefix ? `${prefix}.${key}` : key;
      rows.push({ path, node: child });
      rows.push(...schemaRows(child, path));
    }
  } else if (node.kind === 'list' && node.item.kind === 'object') {
    rows.push(...schemaRows(node.item, `${prefix}[]`));
  } else if (node.kind === 'map' && node.value.kind === 'object') {
    rows.push(...schemaRows(node.value, `${prefix}.<name>`));
  }
  return rows;
}

/** Short type description of a node, as written in the docs table. */
export function describeType(node: SchemaNode): string {
  switch (node.kind) {
    case 'string': return node.format === 'text' ? 'string' : node.format;
    case 'secret': return 'secret';
    case 'integer': return (node.multipleOf ? `integer ${node.min}–${node.max}, multiple of ${node.multipleOf}` : `integer ${node.min}–${node.max}`) + (node.auto ? ' or `auto`' : '');
    case 'number': return `number ${node.min}–${node.max}`;
    case 'boolean': return 'boolean';
    case 'enum': return node.values.join(' \\| ');
    case 'object': return node.optional ? 'section (optional)' : 'section';
    case 'list': return `list of ${node.item.kind === 'object' ? 'entries' : describeType(node.item)}`;
    case 'map': return `map of name → ${node.value.kind === 'object' ? 'entry' : describeType(node.value)}`;
  }
}

/** How a node's default is written in the docs table ("—" when there is none, "required" when required). */
export function describeDefault(node: SchemaNode): string {
  if (node.required) return 'required';
  if (node.defaultDoc !== undefined) return node.defaultDoc;
  if (node.default === undefined) return '—';
  if (Array.isArray(node.default)) return `[${node.default.join(', ')}]`;
  if (typeof node.default === 'object' && node.default !== null) return '{}';
  return String(node.default);
}
