import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParsedArgs } from './args.js';
import { flagStr, unknownFlags } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { apiRequest, daemonApi, printJson, saveBody } from './api-client.js';

const USAGE = `usage:
  fsbridge dnc add --config FILE [--tenant T] [--default-country CC] NUMBER...
  fsbridge dnc add --config FILE [--tenant T] [--default-country CC] --file F.csv
  fsbridge dnc remove --config FILE [--tenant T] NUMBER
  fsbridge dnc list --config FILE [--tenant T] [--out FILE]
(--tenant *: the global list every tenant obeys; without --tenant: the list of tenant default)
`;

const FLAGS: Readonly<Record<string, readonly string[]>> = {
  add: ['config', 'tenant', 'default-country', 'file'],
  remove: ['config', 'tenant'],
  list: ['config', 'tenant', 'out'],
};

/**
 * `fsbridge dnc add|remove|list`: do-not-call lists through the running daemon's API (`/v1/dnc`,
 * with the configured api.token). The daemon normalises numbers to E.164 (`--default-country`
 * for numbers written without '+'); a number it cannot read fails the whole `add`. `list` streams
 * the list as CSV (number,source,addedAt) to stdout or `--out`. Exit codes as `fsbridge campaign`.
 */
export async function dncCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [, sub, ...numbers] = args.positionals;
  const flags = sub === undefined ? undefined : FLAGS[sub];
  if (!flags) { io.err(USAGE); return EXIT.USAGE; }
  const bad = unknownFlags(args, flags);
  if (bad.length > 0) { io.err(`fsbridge dnc ${sub}: unknown option --${bad[0]}\n${USAGE}`); return EXIT.USAGE; }
  const cmd = `fsbridge dnc ${sub}`;
  const tenant = flagStr(args, 'tenant');
  const file = flagStr(args, 'file');
  const country = flagStr(args, 'default-country');
  const out = flagStr(args, 'out');
  const usable = tenant !== '' && file !== '' && country !== '' && out !== ''
    && (sub === 'add' ? (numbers.length > 0) !== (file !== undefined) : sub === 'remove' ? numbers.length === 1 : numbers.length === 0);
  if (!usable) { io.err(USAGE); return EXIT.USAGE; }

  let body: Record<string, unknown> | undefined;
  if (sub === 'add') {
    body = { ...(tenant !== undefined ? { tenant } : {}), ...(country !== undefined ? { defaultCountry: country } : {}) };
    if (file !== undefined) {
      try {
        body.csv = readFileSync(resolve(io.cwd, file), 'utf8');
      } catch (err) {
        io.err(`${cmd}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
        return EXIT.FAILURE;
      }
    } else {
      body.numbers = numbers;
    }
  }

  const api = daemonApi(args, io, cmd);
  if (typeof api === 'number') return api;
  const q = (extra: Record<string, string>) => {
    const s = new URLSearchParams({ ...extra, ...(tenant !== undefined ? { tenant } : {}) }).toString();
    return s ? `?${s}` : '';
  };
  if (sub === 'add') {
    const res = await apiRequest(api, io, cmd, 'POST', '/v1/dnc', body);
    return typeof res === 'number' ? res : printJson(res, io, cmd);
  }
  if (sub === 'remove') {
    const res = await apiRequest(api, io, cmd, 'DELETE', `/v1/dnc/${encodeURIComponent(numbers[0])}${q({})}`);
    return typeof res === 'number' ? res : printJson(res, io, cmd);
  }
  const res = await apiRequest(api, io, cmd, 'GET', `/v1/dnc${q({ format: 'csv' })}`);
  return typeof res === 'number' ? res : saveBody(res, io, cmd, out);
}
