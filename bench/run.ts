/**
 * `npm run bench`: runs the codec benchmark (bench/codec.ts), the real-FreeSWITCH benchmark (bench/real-fs.ts), the SIP benchmark (bench/sip.ts) and the media-loop benchmark
 * (bench/media-loop.ts) and writes docs/benchmarks.md with the machine, the date, the command,
 * the tables, and a verdict on each budget of design.md.
 *
 * Options are passed through to the media loop: `--quick`, `--calls 50,100`, `--modes relay,twilio`,
 * `--no-pin`, `--no-nice`, `--retries n`; `--out <file>` writes elsewhere; `--no-codec` skips the codec benchmark, `--no-sip` the SIP benchmark (bench/sip.ts), `--no-store` the store benchmark (bench/store.ts), `--no-recording` the recording benchmark (bench/recording.ts),
 * `--no-real-fs` the real-FreeSWITCH benchmark (bench/real-fs.ts; also skipped, with its reason, when ../shared/realfs is not installed),
 * `--no-analysis` the call-analysis benchmark (bench/analysis.ts: VAD, tones, AMD on the labelled corpus; skipped, with its reason, without espeak-ng and sox),
 * `--no-campaigns` the campaigns benchmark (bench/campaigns.ts: contact import and store, the dialer's cost per call, a live campaign at 50 calls/s).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  addedLatencyTable, evaluateBudgets, latencyTable, parseMediaLoopArgs, resourceTable, runMediaLoopBench, type MediaLoopResult,
} from './media-loop.js';
import { HOLD_EVERY } from './media-loop-ipc.js';

const argv = process.argv.slice(2);
const outIdx = argv.indexOf('--out');
const out = outIdx >= 0 && argv[outIdx + 1] ? argv[outIdx + 1] : fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const started = new Date();
const load0 = loadavg();
const t0 = performance.now();

/**
 * One benchmark section: "Not run" with `--no-<flag>`, and what failed in its place when it
 * throws (`why` words the failure; by default "bench/<flag>.ts failed (…)").
 */
async function section(heading: string, flag: string, run: () => Promise<string>, why = (m: string) => `bench/${flag}.ts failed (${m}).`): Promise<string> {
  const head = heading ? `## ${heading}\n\n` : '';
  if (argv.includes(`--no-${flag}`)) return `${head}Not run (\`--no-${flag}\`).`;
  try {
    return await run();
  } catch (err) {
    return `${head}Not run: ${why((err as Error).message)}`;
  }
}
const quick = argv.includes('--quick');

// G.711 (bench/codec.ts): its heading is in the page below.
const codecSection = await section('', 'codec', async () => {
  const codec = await import('./codec.js');
  console.log('codec benchmark…');
  const rows = await codec.runCodecBench(quick ? { rounds: 3, roundMs: 100 } : {});
  let text = [
    '| case | Msamples/s | fsbridge speed-up | encode mismatches vs sox -D (of 65 536) |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${(r.samplesPerSec / 1e6).toFixed(1)} | ${r.fsbridgeSpeedup.toFixed(2)} | ${r.mismatches ?? ''} |`),
  ].join('\n');
  const enc = rows.find((r) => r.name === 'ulaw-encode/fsbridge');
  // one call-second of caller audio is 8 000 samples
  if (enc) text += `\n\nμ-law encode by table: ${((8000 / enc.samplesPerSec) * 1000).toFixed(3)} ms of CPU per call-second of audio.`;
  return text;
});

// SIP signalling (bench/sip.ts): registration refresh for 200 trunks and a stepped call rate.
const sipSection = await section('SIP signalling', 'sip', async () => {
  const sip = await import('./sip.js');
  console.log('SIP benchmark…');
  return sip.formatSipBench(await sip.runSipBench({ quick }));
});

// The store's cost to the event loop (bench/store.ts): SQLite, and PostgreSQL when installed.
const storeSection = await section('Store: call records and the event loop', 'store', async () => {
  const store = await import('./store.js');
  console.log('store benchmark…');
  return store.formatStoreBench(await store.runStoreBench({ calls: quick ? 200 : 2000 }));
});

// What recording a call costs the media loop (bench/recording.ts).
const recordingSection = await section('Recordings: cost per frame', 'recording', async () => {
  const rec = await import('./recording.js');
  console.log('recording benchmark…');
  const text = rec.formatRecordingBench(await rec.runRecordingBench(quick ? { rounds: 3, roundMs: 100, seconds: 60 } : {}));
  return `## Recordings: cost per frame\n\n\`\`\`\n${text}\n\`\`\``;
});

// The per-call audio analysis (bench/analysis.ts): cost per frame, and AMD / beep / VAD figures on the
// labelled corpus (skipped, with its reason, when espeak-ng or sox is missing).
const analysisSection = await section('Call analysis: VAD, tones, AMD', 'analysis', async () => {
  const analysis = await import('./analysis.js');
  console.log('call analysis benchmark…');
  return `## Call analysis: VAD, tones, AMD\n\n${analysis.formatAnalysisBench(await analysis.runAnalysisBench(quick ? { rounds: 3, roundMs: 100 } : {}))}`;
}, (m) => m);

// Outbound campaigns (bench/campaigns.ts): 100,000 contacts imported and stored, the dialer's cost
// per call, a campaign at 50 calls/s through drachtio-server to a sipp trunk.
const campaignsSection = await section('Campaigns', 'campaigns', async () => {
  const campaigns = await import('./campaigns.js');
  console.log('campaigns benchmark…');
  return `## Campaigns\n\n${campaigns.formatCampaignBench(await campaigns.runCampaignBench({ quick }))}`;
});

const clusterSection = await section('Scale-out: three nodes behind Kamailio', 'cluster', async () => {
  const cluster = await import('./cluster.js');
  console.log('scale-out benchmark (three real nodes, a few minutes)…');
  return `## Scale-out: three nodes behind Kamailio\n\n${cluster.formatClusterBench(await cluster.runClusterBench())}`;
});

// What the caller hears on the real FreeSWITCH (bench/real-fs.ts), when ../shared/realfs is installed.
const realFsSection = await section('Real FreeSWITCH: what the caller hears', 'real-fs', async () => {
  const realFs = await import('./real-fs.js');
  console.log('real FreeSWITCH benchmark…');
  return realFs.formatRealFsBench(await realFs.runRealFsBench({
    seconds: quick ? 10 : 60, calls: quick ? [10] : [10, 25, 50, 100], progress: (l) => console.log(l),
  }));
}, (m) => m);

const opts = parseMediaLoopArgs(argv);
console.log(`media-loop benchmark: calls ${opts.calls.join(',')}, modes ${opts.modes.join(',')}…`);
const r = await runMediaLoopBench({ ...opts, progress: (l) => console.log(l) });
const load1 = loadavg();
const minutes = (performance.now() - t0) / 60_000;

writeFileSync(out, render(r));
console.log(`wrote ${out} (${minutes.toFixed(1)} min)`);

function render(res: MediaLoopResult): string {
  const cpu = cpus();
  const verdicts = evaluateBudgets(res);
  const word = (m: boolean | null): string => (m === null ? 'undetermined' : m ? '**met**' : '**missed**');
  const o = res.options;
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.ts); do not edit by hand. Re-run it on the target machine:
every figure below is from one run on the machine described here, and latency tails in particular
depend on what else that machine was doing.

## Run

- Date: ${started.toISOString()} (took ${minutes.toFixed(1)} min)
- Command: \`npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}\`
- Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} logical cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}
- Node ${process.version}
- Load average (1/5/15 min) before: ${load0.map((x) => x.toFixed(2)).join(' / ')}; after: ${load1.map((x) => x.toFixed(2)).join(' / ')}
  (other processes were running; anything above ~0 competes with the benchmark for the two cores).
- Pinning: ${res.pinned ? 'system under test on CPU 1, load generator on CPU 0 (taskset)' : 'none (taskset unavailable or fewer than 2 cores)'};
  priority: ${res.niced ? 'both processes at nice −10, so that other work on the machine disturbs them less' : 'default (nice 0)'}
- Media loop: calls ${o.calls.join(', ')}; ${o.warmMs / 1000} s warm-up, ${o.measureMs / 1000} s measured per step; modes interleaved per call count.
  A step during which either core was more than 10 % busy with other work (from /proc/stat, minus the
  benchmark's own CPU time) was run again, up to ${o.retries} more times within ${o.budgetMs / 60_000} min of the run's start,
  keeping the least disturbed attempt; the "attempts" and "other work" columns show it.

## Budgets (design.md) against this run

| budget | verdict | figures |
|---|---|---|
${verdicts.map((v) => `| ${v.budget} | ${word(v.met)} | ${v.detail} |`).join('\n')}

## Media loop

### How it is measured

- **System under test (SUT)** in its own Node process (\`bench/media-loop-sut.ts\`), started with an IPC
  channel${res.pinned ? ' and pinned to one core' : ''}: either fsbridge's \`MediaServer\` with one \`MediaLeg\`
  per call (\`playback: 'stream'\`, bot config \`sampleRate 8000, encoding l16\`, silent logger, one
  \`MetricsRegistry\`, \`systemClock\`), or the **bare relay**: a \`ws\` server for the caller side and one
  \`ws\` client per call to the bot, forwarding every message unchanged both ways. Both paths have the
  same websocket hops (simulated FreeSWITCH → SUT → bot → SUT → simulated FreeSWITCH).
- **Load generator** in the parent process: one simulated mod_audio_stream websocket per call sending
  320-byte L16 frames every 20 ms on absolute deadlines, each call on its own phase (spread over the
  20 ms), and instrumented echo bots (twilio and exotel JSON \`media\`, native binary, raw binary for the
  relay) that echo each message at once and send nothing else (no marks). The MediaLeg's
  \`StreamControl\` is faked: \`audioStreamStart\` asks the parent to open the simulated socket to the URL
  it was given; every other command resolves \`+OK\`.
- **Frame identity**: the first 6 samples of every caller frame carry a tag (call, sequence number)
  made of decoded μ-law values, which survive μ-law + base64 (twilio) and L16 base64 (exotel,
  streamAudio) unchanged. All timestamps are \`performance.now()\` of the parent process.
- **caller→bot** = bot receive − send of the frame that completed the bot message. For exotel the
  adapter aggregates 10 frames into one 3.2 KB message (Exotel's chunk rule); the wait of the earlier
  frames for the rest of their chunk is shown apart as "exotel aggregation" (it is the protocol's).
- **bot→caller total** = simulated FreeSWITCH receive − bot send. In stream playback this includes the
  **playout hold**: bot audio waits in the playout buffer and the pacer releases it on 20 ms deadlines
  (up to 40 ms per streamAudio message), keeping the far end about one frame ahead, as FreeSWITCH's
  real-time playback requires. The SUT measures the hold of each bot→caller frame itself (arrival of the
  bot message → departure of the streamAudio message that carries the frame; on every ${HOLD_EVERY}th call,
  to keep the tracker's own cost out of the CPU figures). **bot→caller transit** = total − hold.
  **Transit round trip** = caller→bot + bot→caller transit (what the media loop adds besides the
  protocol's aggregation and the playout pacing).
- **Dropped**: frames of the measured window that never reached the bot (↑) or the simulated
  FreeSWITCH (↓) by the end of the drain (at least 0.5 s after the last frame, then until nothing
  arrived for 0.3 s, at most 5 s: audio still queued for real-time playout is late, not lost).
- **CPU**: \`process.cpuUsage()\` of the SUT over the measured window; CPU s per call-minute =
  CPU s / (calls × window minutes). Event-loop use = \`eventLoopUtilization()\` of the SUT.
- **Memory per call**: (heapUsed + external) and RSS of the SUT after two forced GCs with every call
  connected (after the traffic), minus the same before the first call, divided by the call count
  (the hold trackers' buffers are subtracted).
- **Capacity**: the largest stepped call count (no interpolation) at which the relay keeps round-trip
  p99 < 5 ms, and at which each protocol keeps transit round-trip p99 < 5 ms, both without drops.

### Latency (ms)

${latencyTable(res)}

### Added over the bare relay at the same call count (p99, ms)

${addedLatencyTable(res)}

### CPU and memory

${resourceTable(res)}

### Reading the figures

- The load generator runs on the other core and does as much websocket work per frame as the relay
  (four messages per call per 20 ms, plus tag decoding); when its own core share approaches 100 %,
  the latency figures of that step include its queueing, for the relay and the daemon alike.
- CPU ratios below 1 (exotel) are real: exotel carries 200 ms per bot message in each direction, so
  the bot websocket has a tenth of the messages of the relay's; per-message cost dominates, not bytes.
- The SUT's core share is what it got, not what it needed: when "other processes on the SUT core"
  is high or event-loop use is near 1, the SUT was behind and CPU per call-minute understates the cost.
- "hold drift" is how fast the playout hold grows during the window. The echo bot sends audio at
  exactly real time, so the hold should stay flat; a positive drift means stream playback releases
  audio slightly slower than real time. Stream playback keeps 40 ms ahead of the far end (a timer up
  to 20 ms late leaves no gap); when a longer stall puts it more than 200 ms behind a bot speaking in
  real time, the oldest queued audio is dropped (\`MEDIA_PLAYBACK_BEHIND\`), so the hold stays within
  about 200 ms instead of growing for good; on a loaded core it can sit near that bound.
- Memory per call: each media leg holds its websocket pair, the protocol adapter, a playout ring
  that starts at 500 ms (8 KiB at 8 kHz) and doubles when a bot bursts, and a PCM framer scratch
  sized to the largest message seen (6.4 KiB at first); the relay keeps nothing per call besides its
  two sockets. (Before 2026-11-22 the leg preallocated about 128 KiB: 64 KiB framer, 32 KiB
  resampling scratch, 32 KiB ring.)

## Codec (G.711, 20 ms frames)

${codecSection}

${realFsSection}

${sipSection}

${storeSection}

${recordingSection}

${analysisSection}

${campaignsSection}

${clusterSection}
`;
}
