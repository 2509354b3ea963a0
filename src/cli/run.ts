import { spawn } from 'node:child_process';
import type { ParsedArgs } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { loadOptions } from './config-commands.js';
import { loadConfig } from '../config/index.js';
import { secretLogPaths } from '../config/secrets.js';
import { createLogger } from '../observability/logger.js';
import { Daemon } from '../daemon.js';

/**
 * Tells systemd the service is ready (Type=notify, NotifyAccess=all) by running
 * `systemd-notify --ready`; does nothing outside systemd (no NOTIFY_SOCKET).
 */
function notifySystemd(io: CliIo, state: string): void {
  if (!io.env.NOTIFY_SOCKET) return;
  const child = spawn('systemd-notify', [state], { stdio: 'ignore', env: io.env as NodeJS.ProcessEnv });
  child.on('error', () => {});
}

/**
 * `fsbridge run --config F`: loads the configuration (exit 78 when invalid, every error listed),
 * starts the daemon, reports readiness to systemd, and on SIGTERM/SIGINT drains and exits 0.
 * SIGHUP reloads the file (Daemon.reload says what applies at once); an unhandled promise
 * rejection is logged and counted (PROCESS_UNHANDLED_REJECTION), never fatal.
 * A wrong ESL password (or drachtio secret) exits 77.
 */
export async function runCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const loaded = loadConfig(loadOptions(args, io));
  if (!loaded.ok) {
    io.err(`fsbridge: invalid configuration (${loaded.errors.length} errors)\n${loaded.errors.map((e) => e.message).join('\n')}\n`);
    return EXIT.CONFIG_INVALID;
  }
  const config = loaded.config;
  const logger = createLogger({ level: config.log.level, redactPersonalData: config.log.redactPersonalData, extraRedactPaths: secretLogPaths('config') });
  const daemon = new Daemon({ config, logger });
  const resources = io.activeResources;
  if (resources) {
    daemon.metrics.addCollector(() => daemon.metrics
      .gauge('fsbridge_process_active_resources', 'Active handles and requests of the process (sockets, timers, ...)').set(resources()));
  }
  io.onUnhandledRejection?.((reason) => {
    daemon.metrics.error('PROCESS_UNHANDLED_REJECTION');
    logger.error({ err: reason, code: 'PROCESS_UNHANDLED_REJECTION' }, 'unhandled promise rejection (the daemon goes on)');
  });
  io.onReload?.(() => {
    // Read and check the file again; a bad file changes nothing (the running configuration stays).
    const next = loadConfig(loadOptions(args, io));
    if (!next.ok) {
      daemon.metrics.error('CONFIG_RELOAD_FAILED');
      logger.error({ code: 'CONFIG_RELOAD_FAILED', errors: next.errors.map((e) => e.message) }, 'reload refused: invalid configuration, nothing changed');
      return;
    }
    const r = daemon.reload(next.config);
    logger.info({ applied: r.applied, needsRestart: r.needsRestart }, 'configuration reloaded');
  });
  try {
    await daemon.start();
  } catch (err) {
    logger.fatal({ err, code: (err as { code?: string }).code }, 'cannot start');
    await daemon.close();
    return EXIT.FAILURE;
  }
  const outcome = await Promise.race([
    daemon.ready.then(() => 'ready' as const, () => 'fatal' as const),
    daemon.fatal.catch(() => 'fatal' as const),
    io.stopSignal.then(() => 'signal' as const),
  ]);
  if (outcome === 'ready') {
    notifySystemd(io, '--ready');
    logger.info('ready');
  }
  const end = outcome === 'ready'
    ? await Promise.race([io.stopSignal.then(() => 'signal' as const), daemon.fatal.catch(() => 'fatal' as const)])
    : outcome;
  notifySystemd(io, '--stopping');
  await daemon.close();
  logger.flush?.();
  return end === 'fatal' ? EXIT.ESL_AUTH_FAILED : EXIT.OK;
}
