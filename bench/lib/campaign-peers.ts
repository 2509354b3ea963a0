/**
 * The far side of bench/campaigns.ts's daemon, in child processes so that their work is not
 * counted as the daemon's (in production FreeSWITCH and the bot are other processes too). With
 * `--fs`: the FreeSWITCH twin (ESL and the `fsbridge` SIP profile on UDP, loopback) and, with
 * `--drachtio-twin`, the drachtio-server twin (when the real one is not installed). With `--bot`:
 * the sample echo bot (twilio protocol, no marks). One process each, so that the bot's websocket
 * work does not delay the twin's originates.
 *
 * The twin's ESL port is reached through an {@link EslTap} (`eslPort` is the tap's), which counts
 * the control connection's commands and times their replies.
 *
 * IPC: the child sends `{ kind: 'ready', eslPort, fsSipPort, botUrl, drachtio? }` (0 / '' for
 * what it does not run); the parent sends `{ kind: 'api', id, cmd }` (a FreeSWITCH API command;
 * answered `{ kind: 'api', id, reply }`), `{ kind: 'esl-stats', id, reset }` (answered
 * `{ kind: 'esl-stats', id, stats }`) and `{ kind: 'stop' }` (everything closed, then
 * `{ kind: 'stopped', botConnections }` and exit). The child exits when the parent goes away.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FreeswitchTwin } from '../../src/sim/freeswitch/index.js';
import { DrachtioTwin } from '../../src/sim/drachtio/twin.js';
import { startEchoBot } from '../../src/bots/sample/echo-bot.js';
import { silentLogger } from '../../src/observability/logger.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';
import { repoRoot } from '../../src/repo-root.js';
import { EslTap } from './esl-tap.js';

/** What the child reports once its peers listen. */
export interface PeersReady {
  kind: 'ready';
  eslPort: number;
  fsSipPort: number;
  /** ws://127.0.0.1:port/ */
  botUrl: string;
  /** The drachtio twin's ports (with --drachtio-twin). */
  drachtio?: { adminPort: number; sipPort: number };
}

/** The secret of the drachtio twin the child starts. */
export const PEERS_DRACHTIO_SECRET = 'bench-campaigns';

async function main(): Promise<void> {
  const dirAt = process.argv.indexOf('--dir');
  const dir = dirAt > 0 ? process.argv[dirAt + 1] : '/tmp';
  const logger = silentLogger();
  const drachtio = process.argv.includes('--drachtio-twin')
    ? new DrachtioTwin({ adminPort: 0, sipPort: 0, secret: PEERS_DRACHTIO_SECRET, logger, metrics: new MetricsRegistry() })
    : null;
  await drachtio?.start();
  const fs = process.argv.includes('--fs')
    ? new FreeswitchTwin({ port: 0, dialplanDir: join(repoRoot(), 'dialplans'), logger, tempDir: join(dir, 'fs'), sip: { host: '127.0.0.1', port: 0 }, maxEarSeconds: 5 })
    : null;
  await fs?.start();
  const tap = fs ? new EslTap({ host: '127.0.0.1', port: fs.port }) : null;
  const tapPort = (await tap?.listen()) ?? 0;
  const bot = process.argv.includes('--bot') ? await startEchoBot({ protocol: 'twilio', port: 0, host: '127.0.0.1', markEveryMs: Infinity }) : null;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await bot?.close().catch(() => {});
    tap?.close();
    await fs?.close().catch(() => {});
    await drachtio?.close().catch(() => {});
  };
  process.on('message', (m: { kind: string; id?: number; cmd?: string; reset?: boolean }) => {
    if (m.kind === 'esl-stats') {
      process.send?.({ kind: 'esl-stats', id: m.id, stats: tap?.stats(m.reset === true) ?? null });
    } else if (m.kind === 'api') {
      const reply = fs ? fs.api(m.cmd ?? '') : Promise.reject(new Error('no FreeSWITCH twin in this process'));
      void reply.then((r) => process.send?.({ kind: 'api', id: m.id, reply: r }), (err: Error) => process.send?.({ kind: 'api', id: m.id, reply: `-ERR ${err.message}` }));
    } else if (m.kind === 'stop') {
      void stop().then(() => process.send?.({ kind: 'stopped', botConnections: bot?.stats.connections ?? 0 }, () => process.exit(0)));
    }
  });
  process.on('disconnect', () => { void stop().then(() => process.exit(0)); });
  const ready: PeersReady = {
    kind: 'ready', eslPort: tapPort, fsSipPort: fs?.sipPort ?? 0, botUrl: bot?.url ?? '',
    ...(drachtio ? { drachtio: { adminPort: drachtio.adminPort, sipPort: drachtio.sipPort } } : {}),
  };
  process.send?.(ready);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
