/** Raw sample rates the module accepts for `audioDataType: "raw"`, and their file extensions. */
export const RAW_RATE_EXT: Readonly<Record<number, string>> = { 8000: 'r8', 16000: 'r16', 24000: 'r24', 32000: 'r32', 48000: 'r48', 64000: 'r64' };

/** Non-raw audio types and their file extensions (pcmu/pcma extensions are not confirmed by a capture). */
export const TYPE_EXT: Readonly<Record<string, string>> = { wav: 'wav', mp3: 'mp3', ogg: 'ogg', pcmu: 'pcmu', pcma: 'pcma' };

/** What one server text message turns into. */
export type ServerMessage =
  /** Valid streamAudio: write `audio` to a file with extension `ext`, then fire ::play with `playBody(file)`. */
  | { kind: 'play'; audioDataType: string; ext: string; audio: Buffer; sampleRateHz: number | undefined; playBody(file: string): string }
  /** Anything else: fire ::json with the text unchanged. */
  | { kind: 'json'; body: string };

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

// cJSON valueint: numbers are truncated toward zero; anything else reads as 0.
function valueint(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0;
}

/**
 * The module's processMessage: a JSON object `{"type":"streamAudio","data":{...}}` whose
 * `data.audioDataType` is raw|wav|mp3|ogg|pcmu|pcma, whose `data.audioData` is a base64 string and,
 * for raw, whose `data.sampleRate` is a JSON number in {8000,16000,24000,32000,48000,64000}
 * (a string "8000" reads as 0 and fails). The ::play body is `data` without `audioData`, plus
 * `"file"` last, key order kept, printed unformatted (cJSON_PrintUnformatted ≈ JSON.stringify).
 * Every other text (including invalid streamAudio) goes to ::json unchanged.
 */
export function classifyServerText(text: string): ServerMessage {
  const json: ServerMessage = { kind: 'json', body: text };
  let v: unknown;
  try { v = JSON.parse(text); } catch { return json; }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return json;
  const o = v as Record<string, unknown>;
  if (o['type'] !== 'streamAudio') return json;
  const data = o['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return json;
  const d = data as Record<string, unknown>;
  const type = d['audioDataType'];
  const b64 = d['audioData'];
  if (typeof type !== 'string' || typeof b64 !== 'string') return json;
  let ext: string | undefined;
  let rate: number | undefined;
  if (type === 'raw') {
    rate = valueint(d['sampleRate']);
    ext = RAW_RATE_EXT[rate];
  } else {
    ext = TYPE_EXT[type];
  }
  if (ext === undefined) return json;
  const clean = b64.replace(/[\r\n]/g, '');
  if (clean.length === 0 || clean.length % 4 !== 0 || !B64.test(clean)) return json;
  const audio = Buffer.from(clean, 'base64');
  const rest: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(d)) if (k !== 'audioData') rest[k] = val;
  return {
    kind: 'play', audioDataType: type, ext, audio, sampleRateHz: rate,
    playBody: (file: string) => JSON.stringify({ ...rest, file }),
  };
}
