/**
 * A Twilio-protocol echo bot for the latency decomposition of bench/real-fs.ts: it sends every
 * media message back at once (as the sample echo bot does), and notes the wall-clock time at which
 * the caller's audio first became loud (RMS of a decoded frame above `loudRms`). With the
 * caller's recording (whose first sample is at its RECORD_START time) that splits the echo delay
 * into the capture path (FreeSWITCH → mod_audio_stream → fsbridge → bot) and the playback path
 * (bot → fsbridge → pipe → FreeSWITCH → caller).
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { ulawDecode } from '../../src/media/g711.js';

export interface ProbeBot {
  /** ws://127.0.0.1:port/ */
  readonly url: string;
  /** Date.now() when caller audio was first loud on the latest connection (NaN before). */
  firstLoudAtMs: number;
  close(): Promise<void>;
}

export async function startProbeBot(loudRms = 500): Promise<ProbeBot> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const bot: ProbeBot = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    firstLoudAtMs: NaN,
    close: () => new Promise<void>((resolve) => { for (const c of wss.clients) c.terminate(); wss.close(() => resolve()); }),
  };
  wss.on('connection', (ws: WebSocket) => {
    bot.firstLoudAtMs = NaN;
    let streamSid = '';
    const pcm = new Int16Array(1600);
    ws.on('message', (data: Buffer) => {
      const at = Date.now();
      const msg = JSON.parse(data.toString('utf8')) as { event?: string; start?: { streamSid?: string }; media?: { payload?: string } };
      if (msg.event === 'start') streamSid = msg.start?.streamSid ?? '';
      if (msg.event !== 'media' || !msg.media?.payload) return;
      ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload: msg.media.payload } }));
      if (!Number.isNaN(bot.firstLoudAtMs)) return;
      const ulaw = Buffer.from(msg.media.payload, 'base64');
      const n = Math.min(ulaw.length, pcm.length);
      ulawDecode(ulaw, pcm, n);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += pcm[i] * pcm[i];
      if (n > 0 && Math.sqrt(sum / n) > loudRms) bot.firstLoudAtMs = at;
    });
    ws.on('error', () => {});
  });
  return bot;
}
