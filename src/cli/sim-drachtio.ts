import type { ParsedArgs } from './args.js';
import { flagStr, parseHostPort, unknownFlags } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { DrachtioTwin } from '../sim/drachtio/twin.js';
import { createLogger } from '../observability/logger.js';

/**
 * `fsbridge sim drachtio --admin 127.0.0.1:9022 --secret cymru --sip 127.0.0.1:5060`: runs the
 * drachtio-server twin as its own process until SIGTERM/SIGINT. Prints
 * `ready admin <host>:<port> sip <host>:<port>` when both ports are bound.
 */
export async function simDrachtioCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const bad = unknownFlags(args, ['admin', 'secret', 'sip', 'log-level']);
  if (bad.length) { io.err(`fsbridge sim drachtio: unknown option --${bad[0]}\n`); return EXIT.USAGE; }
  const admin = parseHostPort(flagStr(args, 'admin') ?? '127.0.0.1:9022');
  const sip = parseHostPort(flagStr(args, 'sip') ?? '127.0.0.1:5060');
  if (!admin || !sip) { io.err('fsbridge sim drachtio: --admin and --sip take host:port\n'); return EXIT.USAGE; }
  const logger = createLogger({ level: flagStr(args, 'log-level') ?? 'warn' }).child({ component: 'sim-drachtio' });
  const twin = new DrachtioTwin({
    adminHost: admin.host, adminPort: admin.port, secret: flagStr(args, 'secret') ?? 'cymru',
    sipHost: sip.host, sipPort: sip.port, logger,
  });
  try {
    await twin.start();
  } catch (err) {
    io.err(`fsbridge sim drachtio: cannot start: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  io.out(`ready admin ${admin.host}:${twin.adminPort} sip ${sip.host}:${twin.sipPort}\n`);
  await io.stopSignal;
  await twin.close();
  return EXIT.OK;
}
