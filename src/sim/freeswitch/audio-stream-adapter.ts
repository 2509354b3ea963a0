import type { Logger } from '../../observability/logger.js';
import type { AudioStreamApi } from './api-commands.js';
import type { FsCore } from './core.js';
import { SRC } from './event-factory.js';
import type { EventHeader } from './event.js';
import type { Session } from './session.js';
import type { StreamChannelPort } from './audio-stream/port.js';

/** The audio-stream module behind `uuid_audio_stream`, or a stand-in when it is absent. */
export interface AudioStreamAdapter extends AudioStreamApi {
  channelGone(uuid: string): void;
  close(): Promise<void>;
}

interface ModuleLike {
  api(args: string, lookup: (uuid: string) => StreamChannelPort | undefined): Promise<string>;
  channelGone(uuid: string): void;
  close(): Promise<void>;
}

/** Adapts one session to the module's channel port. */
export function portFor(core: FsCore, s: Session, tempDir: string): StreamChannelPort {
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

/**
 * Loads src/sim/freeswitch/audio-stream/module.ts when present (written by another part of the
 * twin); otherwise `uuid_audio_stream` answers `-ERR Operation Failed\n`.
 */
export async function loadAudioStream(o: {
  logger: Logger; playback: 'file' | 'stream'; metadataAfterFrames?: number; tempDir: string; core: FsCore;
}): Promise<AudioStreamAdapter> {
  let mod: ModuleLike | undefined;
  try {
    const spec = './audio-stream/module.js';
    const m = (await import(spec)) as { AudioStreamModule?: new (opts: unknown) => ModuleLike };
    if (m.AudioStreamModule) {
      mod = new m.AudioStreamModule({ logger: o.logger, playback: o.playback, metadataAfterFrames: o.metadataAfterFrames });
    }
  } catch (err) {
    o.logger.debug({ err }, 'sim freeswitch: audio-stream module not available');
  }
  const ports = new Map<string, StreamChannelPort>();
  const lookup = (s: Session | undefined): StreamChannelPort | undefined => {
    if (!s || s.isHungUp) return undefined;
    let p = ports.get(s.uuid);
    if (!p) { p = portFor(o.core, s, o.tempDir); ports.set(s.uuid, p); }
    return p;
  };
  return {
    api: async (args, session) => (mod ? mod.api(args, (u) => lookup(session(u))) : '-ERR Operation Failed\n'),
    channelGone: (uuid) => { ports.delete(uuid); mod?.channelGone(uuid); },
    close: async () => { await mod?.close(); },
  };
}
