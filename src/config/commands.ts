/**
 * The pure parts of `fsbridge check-config` and `fsbridge print-config`: they return the exit code
 * and the text to print; the CLI writes it. Exit codes: 0 valid, 2 invalid.
 */
import { stringify } from 'yaml';
import { loadConfig, type LoadConfigOptions } from './load.js';
import type { ConfigError } from './config-error.js';
import type { Config, DeepReadonly } from './schema.js';
import { redactConfig } from './redact.js';

/** What a command returns: the process exit code and the text for stdout (0) or stderr (2). */
export interface CommandResult {
  exitCode: 0 | 2;
  output: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function invalid(args: LoadConfigOptions, errors: ConfigError[]): CommandResult {
  const head = `config invalid: ${plural(errors.length, 'error')}${args.file ? ` in ${args.file}` : ''}`;
  return { exitCode: 2, output: `${head}\n${errors.map((e) => e.message).join('\n')}\n` };
}

/** One line describing a valid configuration (counts and listen addresses; no secrets). */
export function summarize(config: DeepReadonly<Config>): string {
  const fs = config.freeswitch;
  return [
    `${plural(config.trunks.length, 'trunk')}, ${plural(Object.keys(config.bots).length, 'bot')}, ${plural(config.routes.length, 'route')}`,
    `ESL ${fs.esl.host}:${fs.esl.port}`,
    `outbound socket ${fs.outboundSocket.host}:${fs.outboundSocket.port}`,
    `media ${config.media.listen}`,
    `API ${config.api.listen}`,
    `playback ${fs.playback}`,
    config.drachtio ? `drachtio ${config.drachtio.host}:${config.drachtio.port}` : 'no drachtio',
  ].join('; ');
}

/** Validates the configuration: exit 0 and "config OK: <summary>", or exit 2 and every error, one per line. */
export function checkConfig(args: LoadConfigOptions): CommandResult {
  const r = loadConfig(args);
  if (!r.ok) return invalid(args, r.errors);
  return { exitCode: 0, output: `config OK${args.file ? `: ${args.file}` : ''}\n${summarize(r.config)}\n` };
}

/** Prints the effective configuration (defaults applied) as YAML with every secret "[redacted]"; exit 2 and the errors when invalid. */
export function printConfig(args: LoadConfigOptions): CommandResult {
  const r = loadConfig(args);
  if (!r.ok) return invalid(args, r.errors);
  const header = '# fsbridge effective configuration: defaults applied, secrets redacted\n';
  return { exitCode: 0, output: header + stringify(redactConfig(r.config), { lineWidth: 0 }) };
}
