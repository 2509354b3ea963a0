import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import type { ParsedArgs } from './args.js';
import { flagStr, unknownFlags } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/logger.js';
import { Daemon } from '../daemon.js';
import { FreeswitchTwin } from '../sim/freeswitch/index.js';
import { readWav8k, wavBytes } from '../sim/freeswitch/audio-source.js';
import { startEchoBot, type EchoBot } from '../bots/sample/echo-bot.js';
import type { BotProtocol } from '../bots/adapter.js';
import type { PlaybackMode } from '../config/schema.js';
import { repoRoot } from '../repo-root.js';
import type { CallRecord } from '../calls/call-record.js';
import { bestMatch, toneSequence } from './recording.js';

/** The repository root (dist/src/cli → ../../..; src/cli under a TS loader → ../..). */
export interface SimulateOptions {
  botUrl: string;
  protocol: BotProtocol;
  callerAudio?: string;
  record?: string;
  seconds: number;
  dtmf?: string;
  /** freeswitch.playback of the daemon (the twin's mod_audio_stream injects audio only for 'stream'). */
  playback: PlaybackMode;
  json: boolean;
  /** Say what happens as it happens (the demo's progress). */
  progress?: boolean;
}

export interface SimulateResult {
  record: CallRecord | null;
  /** Samples of what the caller heard, 8 kHz. */
  heard: Int16Array;
  exitCode: number;
}

/**
 * One call through the real daemon: starts the FreeSWITCH twin (running the shipped dialplans/)
 * and the daemon on loopback, originates `loopback/bot-sim/default`, lets it run for `seconds` (or
 * until the bot hangs up), hangs up as the caller, and reports the call record. Everything binds
 * port 0 and is closed before this resolves.
 */
export async function simulateCall(o: SimulateOptions, io: CliIo): Promise<SimulateResult> {
  const t0 = Date.now();
  const say = (event: string, fields: Record<string, unknown> = {}) => {
    const tMs = Date.now() - t0;
    if (o.json) io.out(JSON.stringify({ tMs, event, ...fields }) + '\n');
    else io.out(`${(tMs / 1000).toFixed(2).padStart(6)}s  ${event}${Object.keys(fields).length ? '  ' + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : ''}\n`);
  };
  const root = repoRoot();
  const work = mkdtempSync(join(tmpdir(), 'fsbridge-sim-'));
  const logger = createLogger({ level: io.env.FSBRIDGE_LOG_LEVEL ?? 'silent' });
  const twin = new FreeswitchTwin({
    host: '127.0.0.1', port: 0, password: 'ClueCon', dialplanDir: join(root, 'dialplans'),
    logger: logger.child({ component: 'sim-freeswitch' }), playback: o.playback === 'stream' ? 'stream' : 'file', tempDir: join(work, 'fs-tmp'),
  });
  await twin.start();
  say('freeswitch twin ready', { esl: `127.0.0.1:${twin.port}`, playback: o.playback });

  const yaml = `
freeswitch:
  esl: { host: 127.0.0.1, port: ${twin.port}, password: env:SIM_ESL_PASSWORD }
  outboundSocket: { host: 127.0.0.1, port: ${io.env.SIM_OUTBOUND_PORT ?? 0} }
  playback: ${o.playback}
media: { listen: "127.0.0.1:0", pipeDir: ${JSON.stringify(join(work, 'pipes'))} }
bots:
  sim: { url: ${JSON.stringify(o.botUrl)}, protocol: ${o.protocol}, onDisconnect: hangup }
api: { listen: "127.0.0.1:0", token: env:SIM_API_TOKEN }
calls: { recordFile: ${JSON.stringify(join(work, 'calls.jsonl'))}, drainTimeoutMs: 2000 }
store: { url: ${JSON.stringify(`sqlite:${join(work, 'fsbridge.db')}`)} }
`;
  const loaded = loadConfig({ text: yaml, file: 'simulate.yaml', env: { SIM_ESL_PASSWORD: 'ClueCon', SIM_API_TOKEN: 'simulate' } });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('; '));
  const daemon = new Daemon({ config: loaded.config, logger: logger.child({ component: 'daemon' }) });
  let record: CallRecord | null = null;
  let heard: Int16Array = new Int16Array(0);
  let exitCode: number = EXIT.FAILURE;
  try {
    const ports = await daemon.start();
    await daemon.ready;
    say('fsbridge ready', { outboundSocket: ports.outboundSocket, media: ports.media, api: ports.api });
    await twin.api(`global_setvar fsbridge_outbound_socket=127.0.0.1:${ports.outboundSocket}`);

    const ended = new Promise<CallRecord>((resolveEnded) => {
      daemon.calls.on('call', (call) => {
        say('call offered', { callId: call.callId, bot: call.init.bot });
        call.on('state', (_from, to) => { if (to !== 'ended') say(`call ${to}`); });
        call.on('ended', (rec) => resolveEnded(rec));
      });
    });
    const vars = ['origination_caller_id_number=+15550100'];
    if (o.callerAudio) vars.push(`sim_caller_audio=${resolve(io.cwd, o.callerAudio)}`);
    else vars.push('sim_caller_tone=440');
    const reply = await twin.api(`originate {${vars.join(',')}}loopback/bot-sim/default &park`);
    const aLeg = /^\+OK ([0-9a-f-]+)/.exec(reply)?.[1];
    if (!aLeg) throw new Error(`originate failed: ${reply.trim()}`);
    say('call placed', { caller: 'loopback/bot-sim-a', uuid: aLeg });

    if (o.dtmf) {
      // The caller presses keys on its own leg (A); on a loopback pair FreeSWITCH delivers them to
      // the other leg (B), the channel fsbridge controls, as the real FreeSWITCH does.
      const digits = o.dtmf;
      setTimeout(() => {
        void twin.api(`uuid_send_dtmf ${aLeg} ${digits}`).then(() => say('caller pressed', { digits }));
      }, Math.min(2000, o.seconds * 500));
    }
    // Progress once a second: how much audio went each way so far.
    const progress = o.progress ? setInterval(async () => {
      const call = daemon.calls.list()[0];
      if (!call) return;
      // the bot connections live in the media workers: their counters are summed with ours
      const toBot = await daemon.metrics.valueAll('fsbridge_bot_messages_out_total');
      const fromBot = await daemon.metrics.valueAll('fsbridge_bot_messages_in_total');
      if (call.state === 'ended') return; // the call ended meanwhile: its end was said already
      say('talking', { state: call.state, messagesToBot: toBot, messagesFromBot: fromBot, callerHeardSoundS: soundSeconds(twin.earRecording(call.fsUuid)) });
    }, 1000) : null;
    const timer = setTimeout(() => {
      say('caller hangs up');
      void twin.api(`uuid_kill ${aLeg}`);
    }, o.seconds * 1000);
    record = await Promise.race([ended, new Promise<null>((r) => setTimeout(() => r(null), o.seconds * 1000 + 15000))]);
    clearTimeout(timer);
    if (progress) clearInterval(progress);
    if (record) {
      heard = twin.earRecording(record.fsUuid);
      say('call ended', { cause: record.cause, causeCode: record.causeCode, endedBy: record.endedBy, durationMs: record.durationMs });
      const said = o.callerAudio ? readWav8k(resolve(io.cwd, o.callerAudio)) : undefined;
      if (said && said.length <= 8000 * 10 && heard.length >= said.length) {
        // An echo bot sends the caller's audio back: say where and how well it came back.
        const m = bestMatch(said, heard);
        say('caller audio heard back', { delayMs: Number((m.lag / 8).toFixed(1)), ncc: Number(m.ncc.toFixed(3)) });
      }
      exitCode = record.cause === 'NORMAL_CLEARING' ? EXIT.OK : EXIT.FAILURE;
    } else say('call did not end in time');
    if (o.record) {
      const out = resolve(io.cwd, o.record);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, wavBytes(heard, 8000));
      say('recording written', { path: out, seconds: Number((heard.length / 8000).toFixed(2)) });
    }
  } finally {
    await daemon.close();
    await twin.close();
    rmSync(work, { recursive: true, force: true });
  }
  return { record, heard, exitCode };
}

/** Seconds of 8 kHz audio that are not silence (20 ms frames above a small RMS). */
function soundSeconds(pcm: Int16Array): number {
  let frames = 0;
  for (let f = 0; f + 160 <= pcm.length; f += 160) {
    let e = 0;
    for (let i = f; i < f + 160; i++) e += pcm[i] * pcm[i];
    if (e / 160 > 200 * 200) frames++;
  }
  return Number((frames * 0.02).toFixed(1));
}

const PROTOCOLS = ['twilio', 'exotel', 'native'];

/** `fsbridge simulate --bot URL --protocol P [...]` */
export async function simulateCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const bad = unknownFlags(args, ['bot', 'protocol', 'caller-audio', 'record', 'seconds', 'dtmf', 'playback', 'json']);
  if (bad.length) { io.err(`fsbridge simulate: unknown option --${bad[0]}\n`); return EXIT.USAGE; }
  const botUrl = flagStr(args, 'bot');
  const protocol = flagStr(args, 'protocol') ?? '';
  if (!botUrl || !/^wss?:\/\//.test(botUrl)) { io.err('fsbridge simulate: --bot ws://… is required\n'); return EXIT.USAGE; }
  if (!PROTOCOLS.includes(protocol)) { io.err('fsbridge simulate: --protocol must be twilio, exotel or native\n'); return EXIT.USAGE; }
  const playback = flagStr(args, 'playback') ?? 'pipe';
  if (playback !== 'pipe' && playback !== 'file' && playback !== 'stream') { io.err('fsbridge simulate: --playback must be pipe, file or stream\n'); return EXIT.USAGE; }
  const seconds = Number(flagStr(args, 'seconds') ?? '5');
  if (!(seconds > 0 && seconds <= 3600)) { io.err('fsbridge simulate: --seconds must be between 0 and 3600\n'); return EXIT.USAGE; }
  const callerAudio = flagStr(args, 'caller-audio');
  if (callerAudio && !readWav8k(resolve(io.cwd, callerAudio))) { io.err(`fsbridge simulate: cannot read ${callerAudio} as a 16-bit PCM WAV\n`); return EXIT.USAGE; }
  const r = await simulateCall({
    botUrl, protocol: protocol as BotProtocol, callerAudio, record: flagStr(args, 'record'), seconds,
    dtmf: flagStr(args, 'dtmf'), playback, json: args.flags.has('json'),
  }, io);
  return r.exitCode;
}

/** A greeting for the sample bot: espeak-ng where installed (resampled by sox), else tones. */
function makeGreeting(dir: string): Int16Array {
  const wav = join(dir, 'greeting.wav');
  const wav8 = join(dir, 'greeting-8k.wav');
  const spoken = spawnSync('espeak-ng', ['-w', wav, 'Hello! You are talking to the fsbridge echo bot. Say something and hear it back.'], { stdio: 'ignore' });
  if (spoken.status === 0) {
    const sox = spawnSync('sox', ['-D', wav, '-r', '8000', '-c', '1', '-b', '16', wav8], { stdio: 'ignore' });
    const pcm = sox.status === 0 ? readWav8k(wav8) : readWav8k(wav);
    if (pcm) return pcm;
  }
  // Three rising tones, 300 ms each.
  return toneSequence([523, 659, 784], 300);
}

/** `npm run demo`: a simulated call to the bundled echo bot (Twilio protocol), recorded. */
export async function demoCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-demo-'));
  let bot: EchoBot | null = null;
  try {
    const greeting = makeGreeting(dir);
    bot = await startEchoBot({ protocol: 'twilio', port: 0, greeting });
    io.out(`fsbridge demo: one call from a simulated caller to a Twilio-protocol echo bot (${bot.url})\n`);
    io.out('The caller plays a 440 Hz tone; the bot greets, then echoes what it hears.\n\n');
    const record = join(io.cwd, '.fsbridge', 'demo-caller-heard.wav');
    const r = await simulateCall({
      botUrl: bot.url + 'twilio', protocol: 'twilio', record, seconds: Number(flagStr(args, 'seconds') ?? '6'),
      playback: 'pipe', json: false, dtmf: '1', progress: true,
    }, io);
    io.out(`\nBot saw: ${bot.stats.starts} start, ${bot.stats.audioMessagesIn} media messages, DTMF ${JSON.stringify(bot.stats.dtmf)}, ${bot.stats.stops} stop.\n`);
    io.out(`What the caller heard is in ${record} (play it with: play ${record}).\n`);
    io.out(r.exitCode === 0 ? 'Demo call ended normally.\n' : 'Demo call did not end normally.\n');
    return r.exitCode;
  } finally {
    await bot?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
