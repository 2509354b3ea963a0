import type { Clock } from '../../clock.js';
import type { Logger } from '../../observability/logger.js';
import { AudioStreamModule } from './audio-stream/module.js';
import type { AudioStreamApi } from './api-commands.js';
import type { FsCore } from './core.js';
import { SRC } from './event-factory.js';
import type { EventHeader } from './event.js';
import type { Session } from './session.js';
import type { StreamChannelPort } from './audio-stream/port.js';

/** The audio-stream module behind `uuid_audio_stream`. */
export interface AudioStreamAdapter extends AudioStreamApi {
  channelGone(uuid: string): void;
  close(): Promise<void>;
}

/** Adapts one session to the module's channel port. */
export function portFor(s: Session, tempDir: string): StreamChannelPort {
  return {
    uuid: s.uuid,
    getVar: (n) => s.getVar(n),
    fireCustom: (subclass, body) => s.fire('CUSTOM', SRC.custom, { subclass, body }),
    fireEvent: (name, headers) => {
      const before: EventHeader[] = Object.entries(headers);
      const src = name === 'MEDIA_BUG_STOP' ? SRC.mediaBugStop : name === 'MEDIA_BUG_START' ? SRC.mediaBugStart : SRC.custom;
      s.fire(name, src, { before });
    },
    preAnswer: () => s.preAnswer(),
    onReadFrame: (cb) => s.media.onReadFrame(cb),
    writeToEar: (pcm, rate) => s.media.writeToEar(pcm, rate),
    tempDir,
  };
}

/** Wires the audio-stream module (uuid_audio_stream) to the twin's sessions. */
export function loadAudioStream(o: {
  logger: Logger; playback: 'file' | 'stream'; metadataAfterFrames?: number; tempDir: string; core: FsCore; clock: Clock;
}): AudioStreamAdapter {
  const mod = new AudioStreamModule({ logger: o.logger, playback: o.playback, metadataAfterFrames: o.metadataAfterFrames, clock: o.clock });
  const ports = new Map<string, StreamChannelPort>();
  const lookup = (s: Session | undefined): StreamChannelPort | undefined => {
    if (!s || s.isHungUp) return undefined;
    let p = ports.get(s.uuid);
    if (!p) { p = portFor(s, o.tempDir); ports.set(s.uuid, p); }
    return p;
  };
  return {
    api: (args, session) => mod.api(args, (u) => lookup(session(u))),
    channelGone: (uuid) => { ports.delete(uuid); mod.channelGone(uuid); },
    close: () => mod.close(),
  };
}
