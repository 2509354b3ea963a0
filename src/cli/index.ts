import { parseArgs } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';

const USAGE = `usage: fsbridge <command> [options]

commands:
  run --config FILE                 run the daemon
  check-config --config FILE        validate a configuration file (exit 0 valid, 2 invalid)
  print-config --config FILE        print the effective configuration, secrets redacted
  status [--api URL] [--token T]    list live calls through the HTTP API
  sim freeswitch [--esl H:P] [--password P] [--dialplan DIR] [--playback file|stream] [--sip H:P] [--var k=v,...]
                                    run the FreeSWITCH twin until SIGTERM
  sim drachtio [--admin H:P] [--secret S] [--sip H:P]
                                    run the drachtio-server twin until SIGTERM
  simulate --bot URL --protocol twilio|exotel|native [--caller-audio in.wav] [--record out.wav]
           [--seconds N] [--dtmf 1#] [--playback pipe|file|stream] [--json]
                                    one simulated call through the twin and the daemon
  demo                              simulate a call to the bundled sample bot
  keys create --config FILE --tenant NAME --role admin|operator|viewer [--name TEXT] [--expires-days N]
  keys list --config FILE [--tenant NAME]
  keys revoke --config FILE ID      API keys in the store (a new key is printed once)
  subjects erase --config FILE [--tenant NAME] NUMBER
                                    erase every record of a phone number (through the running daemon)
  campaign create --config FILE --spec SPEC.json [--contacts FILE.csv|FILE.json] [--paused]
  campaign status --config FILE [ID]
  campaign pause|resume|cancel --config FILE ID
  campaign export --config FILE ID [--out FILE]
                                    outbound campaigns (through the running daemon)
  dnc add --config FILE [--tenant T] [--default-country CC] NUMBER... | --file F.csv
  dnc remove --config FILE [--tenant T] NUMBER
  dnc list --config FILE [--tenant T] [--out FILE]
                                    do-not-call lists, as CSV (--tenant *: the global list)
`;

/** Dispatches a command line; resolves the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  const [cmd, sub] = args.positionals;
  switch (cmd) {
    case 'run': return (await import('./run.js')).runCommand(args, io);
    case 'check-config': return (await import('./config-commands.js')).checkConfigCommand(args, io);
    case 'print-config': return (await import('./config-commands.js')).printConfigCommand(args, io);
    case 'status': return (await import('./status.js')).statusCommand(args, io);
    case 'sim':
      if (sub === 'freeswitch') return (await import('./sim-freeswitch.js')).simFreeswitchCommand(args, io);
      if (sub === 'drachtio') return (await import('./sim-drachtio.js')).simDrachtioCommand(args, io);
      io.err(USAGE);
      return EXIT.USAGE;
    case 'simulate': return (await import('./simulate.js')).simulateCommand(args, io);
    case 'demo': return (await import('./simulate.js')).demoCommand(args, io);
    case 'keys': return (await import('./keys.js')).keysCommand(args, io);
    case 'subjects': return (await import('./subjects.js')).subjectsCommand(args, io);
    case 'campaign': return (await import('./campaign.js')).campaignCommand(args, io);
    case 'dnc': return (await import('./dnc.js')).dncCommand(args, io);
    case undefined:
    case 'help':
      io.out(USAGE);
      return cmd === undefined ? EXIT.USAGE : EXIT.OK;
    default:
      io.err(`fsbridge: unknown command "${cmd}"\n${USAGE}`);
      return EXIT.USAGE;
  }
}
