import { resolve } from 'node:path';
import type { ParsedArgs } from './args.js';
import { flagStr } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { checkConfig, printConfig, type LoadConfigOptions } from '../config/index.js';

const DEFAULT_CONFIG = '/etc/fsbridge/fsbridge.yaml';

/** The load options every command uses: --config (default /etc/fsbridge/fsbridge.yaml), the environment, systemd credentials. */
export function loadOptions(args: ParsedArgs, io: CliIo): LoadConfigOptions {
  return {
    file: resolve(io.cwd, flagStr(args, 'config') || DEFAULT_CONFIG),
    env: io.env,
    credentialsDir: io.env.CREDENTIALS_DIRECTORY,
  };
}

/** `fsbridge check-config --config F`: exit 0 when valid, 2 with every error listed. */
export async function checkConfigCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const r = checkConfig(loadOptions(args, io));
  if (r.exitCode === 0) io.out(r.output);
  else io.err(r.output);
  return r.exitCode === 0 ? EXIT.OK : EXIT.CONFIG_INVALID_CHECK;
}

/** `fsbridge print-config --config F`: the effective configuration, secrets redacted. */
export async function printConfigCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const r = printConfig(loadOptions(args, io));
  if (r.exitCode === 0) io.out(r.output);
  else io.err(r.output);
  return r.exitCode === 0 ? EXIT.OK : EXIT.CONFIG_INVALID_CHECK;
}
