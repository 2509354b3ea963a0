/**
 * Entry of a media worker thread (see worker-host.ts), and the only file of it that touches
 * `process` (the rejection backstop): binds its media server, then serves the
 * main thread's messages until `close`. Its log lines go to the main thread, which writes them
 * with its own logger (one stream, one redaction); its metrics are read by the main thread at
 * each /metrics scrape.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { CountingClock, systemClock } from '../clock.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { MediaServer } from '../media/server.js';
import { WorkerHost } from './worker-host.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (msg: FromWorker): void => port.postMessage(msg);

const logger = pino(
  { level: init.logLevel, base: { worker: init.index } },
  { write: (line: string) => post({ t: 'log', line }) },
);
const clock = new CountingClock(systemClock);
const metrics = new MetricsRegistry();
metrics.addCollector(() => metrics.gauge('fsbridge_timers_pending', 'Timers of the daemon not yet fired or cancelled').set(clock.pendingTimers));
// Backstop, as in the main thread (main.ts): a rejection nobody handled is a bug in one call's
// code path; it is logged and counted instead of ending this worker and every call it carries.
process.on('unhandledRejection', (reason) => {
  metrics.error('PROCESS_UNHANDLED_REJECTION');
  logger.error({ err: reason, code: 'PROCESS_UNHANDLED_REJECTION' }, 'unhandled rejection in a media worker');
});
const media = new MediaServer({
  host: init.host, port: init.port, maxMessageBytes: init.maxMessageBytes,
  logger: logger.child({ component: 'media' }), metrics, clock,
});

media.listen().then((addr) => {
  const advertisePort = init.advertisePort === 0 ? addr.port : init.advertisePort;
  const host = new WorkerHost({ index: init.index, media, mediaUrlBase: `ws://${init.advertiseHost}:${advertisePort}`, clock, logger, metrics, post });
  port.on('message', (m: ToWorker) => {
    if (m.t !== 'close') { host.onMessage(m); return; }
    void host.stopAll().then(() => media.close()).finally(() => port.close());
  });
  post({ t: 'ready', port: addr.port });
}, (err: unknown) => {
  post({ t: 'listen-failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
});
