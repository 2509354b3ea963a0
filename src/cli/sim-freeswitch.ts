import { resolve } from 'node:path';
import type { ParsedArgs } from './args.js';
import { flagStr, parseHostPort, unknownFlags } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { FreeswitchTwin } from '../sim/freeswitch/index.js';
import { createLogger } from '../observability/logger.js';

/**
 * `fsbridge sim freeswitch --esl 127.0.0.1:8021 --password ClueCon --dialplan dialplans/ [--var k=v,…] [--sip 127.0.0.1:5080]`: runs the
 * FreeSWITCH twin as its own process until SIGTERM/SIGINT. Prints `ready <host>:<port>` when its
 * ESL port is bound (tests wait for that line).
 */
export async function simFreeswitchCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const bad = unknownFlags(args, ['esl', 'password', 'dialplan', 'playback', 'temp-dir', 'log-level', 'var', 'sip']);
  if (bad.length) { io.err(`fsbridge sim freeswitch: unknown option --${bad[0]}\n`); return EXIT.USAGE; }
  const hp = parseHostPort(flagStr(args, 'esl') ?? '127.0.0.1:8021');
  if (!hp) { io.err('fsbridge sim freeswitch: --esl must be host:port\n'); return EXIT.USAGE; }
  // --sip H:P: the `fsbridge` SIP profile (calls from drachtio-server), off unless given.
  const sipFlag = flagStr(args, 'sip');
  const sip = sipFlag === undefined ? undefined : parseHostPort(sipFlag);
  if (sipFlag !== undefined && !sip) { io.err('fsbridge sim freeswitch: --sip must be host:port\n'); return EXIT.USAGE; }
  const playback = flagStr(args, 'playback') ?? 'file';
  if (playback !== 'file' && playback !== 'stream') { io.err('fsbridge sim freeswitch: --playback must be file or stream\n'); return EXIT.USAGE; }
  // --var a=b,c=d: global variables, as vars.xml's `<X-PRE-PROCESS cmd="set" data="a=b"/>` sets them.
  const globals: Record<string, string> = {};
  for (const kv of (flagStr(args, 'var') ?? '').split(',').filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) { io.err('fsbridge sim freeswitch: --var takes name=value[,name=value]\n'); return EXIT.USAGE; }
    globals[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const logger = createLogger({ level: flagStr(args, 'log-level') ?? 'warn' }).child({ component: 'sim-freeswitch' });
  const twin = new FreeswitchTwin({
    host: hp.host, port: hp.port, password: flagStr(args, 'password') ?? 'ClueCon',
    dialplanDir: resolve(io.cwd, flagStr(args, 'dialplan') ?? 'dialplans'), logger, playback,
    tempDir: flagStr(args, 'temp-dir'), globals, sip: sip ?? undefined,
  });
  try {
    await twin.start();
  } catch (err) {
    io.err(`fsbridge sim freeswitch: cannot start: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  io.out(`ready ${hp.host}:${twin.port}${sip ? ` sip ${sip.host}:${twin.sipPort}` : ''}\n`);
  await io.stopSignal;
  await twin.close();
  return EXIT.OK;
}
