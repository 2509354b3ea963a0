import type { ParsedArgs } from './args.js';
import { flagStr, unknownFlags } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { loadOptions } from './config-commands.js';
import { loadConfig } from '../config/index.js';
import { parseHostPort } from '../config/formats.js';

const USAGE = 'usage: fsbridge subjects erase --config FILE [--tenant NAME] NUMBER\n';

/**
 * `fsbridge subjects erase NUMBER`: an erasure request through the running daemon's API (with the
 * configured api.token), so that records still queued are written first, the JSON-lines file is
 * rewritten by its one writer, and the request is in the audit log.
 */
export async function subjectsCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [, sub, number] = args.positionals;
  const bad = unknownFlags(args, ['config', 'tenant']);
  if (sub !== 'erase' || !number || bad.length > 0) { io.err(USAGE); return EXIT.USAGE; }
  const loaded = loadConfig(loadOptions(args, io));
  if (!loaded.ok) {
    io.err(`fsbridge subjects: invalid configuration:\n${loaded.errors.map((e) => `  ${e.message}`).join('\n')}\n`);
    return EXIT.CONFIG_INVALID;
  }
  const hp = parseHostPort(loaded.config.api.listen, 0)!;
  const host = hp.host === '0.0.0.0' || hp.host === '::' ? '127.0.0.1' : hp.host.includes(':') ? `[${hp.host}]` : hp.host;
  const tenant = flagStr(args, 'tenant');
  const url = `http://${host}:${hp.port}/v1/subjects/${encodeURIComponent(number)}${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''}`;
  try {
    const res = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${loaded.config.api.token}` } });
    const body = await res.text();
    if (!res.ok) { io.err(`fsbridge subjects: the API answered ${res.status}: ${body}\n`); return EXIT.FAILURE; }
    io.out(body + '\n');
    return EXIT.OK;
  } catch (err) {
    io.err(`fsbridge subjects: cannot reach the daemon's API at ${host}:${hp.port} (${(err as Error).message}); it must be running\n`);
    return EXIT.FAILURE;
  }
}
