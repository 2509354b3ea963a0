import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParsedArgs } from './args.js';
import { flagStr, unknownFlags } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { apiRequest, daemonApi, printJson, saveBody } from './api-client.js';

const USAGE = `usage:
  fsbridge campaign create --config FILE --spec SPEC.json [--contacts FILE.csv|FILE.json] [--paused]
  fsbridge campaign status --config FILE [ID]
  fsbridge campaign pause|resume|cancel --config FILE ID
  fsbridge campaign export --config FILE ID [--out FILE]
`;

/** The flags each subcommand takes, and how many positionals follow it (min, max). */
const SUBCOMMANDS: Readonly<Record<string, { flags: readonly string[]; ids: readonly [number, number] }>> = {
  create: { flags: ['config', 'spec', 'contacts', 'paused'], ids: [0, 0] },
  status: { flags: ['config'], ids: [0, 1] },
  pause: { flags: ['config'], ids: [1, 1] },
  resume: { flags: ['config'], ids: [1, 1] },
  cancel: { flags: ['config'], ids: [1, 1] },
  export: { flags: ['config', 'out'], ids: [1, 1] },
};

/**
 * `fsbridge campaign create|status|pause|resume|cancel|export`: outbound campaigns through the
 * running daemon's API (`/v1/campaigns`, with the configured api.token). Answers are printed as
 * the API's JSON; the export is CSV, streamed to stdout or `--out`. Exit codes: EXIT.USAGE for a
 * malformed command line, EXIT.FAILURE for an unreadable file, an API refusal (its status and
 * code on stderr) or a daemon that cannot be reached.
 */
export async function campaignCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [, sub, ...ids] = args.positionals;
  const shape = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (!shape) { io.err(USAGE); return EXIT.USAGE; }
  const bad = unknownFlags(args, shape.flags);
  if (bad.length > 0) { io.err(`fsbridge campaign ${sub}: unknown option --${bad[0]}\n${USAGE}`); return EXIT.USAGE; }
  if (ids.length < shape.ids[0] || ids.length > shape.ids[1]) { io.err(USAGE); return EXIT.USAGE; }
  const cmd = `fsbridge campaign ${sub}`;

  let body: Record<string, unknown> | undefined;
  if (sub === 'create') {
    const got = createBody(args, io, cmd);
    if (typeof got === 'number') return got;
    body = got;
  }
  const out = flagStr(args, 'out');
  if (out === '') { io.err(`${cmd}: --out needs a file name\n${USAGE}`); return EXIT.USAGE; }

  const api = daemonApi(args, io, cmd);
  if (typeof api === 'number') return api;
  const id = ids[0] === undefined ? undefined : encodeURIComponent(ids[0]);
  let res: Response | number;
  switch (sub) {
    case 'create': res = await apiRequest(api, io, cmd, 'POST', '/v1/campaigns', body); break;
    case 'status': res = await apiRequest(api, io, cmd, 'GET', id === undefined ? '/v1/campaigns' : `/v1/campaigns/${id}`); break;
    case 'export': res = await apiRequest(api, io, cmd, 'GET', `/v1/campaigns/${id}/export`); break;
    default: res = await apiRequest(api, io, cmd, 'POST', `/v1/campaigns/${id}/${sub}`); break;
  }
  if (typeof res === 'number') return res;
  return sub === 'export' ? saveBody(res, io, cmd, out) : printJson(res, io, cmd);
}

/**
 * The body of `POST /v1/campaigns`: the spec file's object, with the `--contacts` file (CSV text
 * as `contactsCsv`, a JSON array as `contacts`) and `start: false` for `--paused`. A problem is
 * reported and resolves an exit code.
 */
function createBody(args: ParsedArgs, io: CliIo, cmd: string): Record<string, unknown> | number {
  const specFile = flagStr(args, 'spec');
  const contactsFile = flagStr(args, 'contacts');
  const paused = args.flags.get('paused');
  if (!specFile || contactsFile === '' || (paused !== undefined && paused !== true)) {
    io.err((paused !== undefined && paused !== true ? `${cmd}: --paused takes no value\n` : '') + USAGE);
    return EXIT.USAGE;
  }
  const spec = readText(io, cmd, specFile);
  if (spec === null) return EXIT.FAILURE;
  let body: unknown;
  try { body = JSON.parse(spec); } catch (err) {
    io.err(`${cmd}: ${specFile} is not JSON (${(err as Error).message})\n`);
    return EXIT.FAILURE;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    io.err(`${cmd}: ${specFile} must hold a JSON object (the campaign: name, bot, trunk, ...)\n`);
    return EXIT.FAILURE;
  }
  const b = { ...(body as Record<string, unknown>) };
  if (contactsFile !== undefined) {
    if (b.contacts !== undefined || b.contactsCsv !== undefined) {
      io.err(`${cmd}: ${specFile} already holds contacts; give them there or with --contacts, not both\n`);
      return EXIT.USAGE;
    }
    const text = readText(io, cmd, contactsFile);
    if (text === null) return EXIT.FAILURE;
    // JSON by its name or its first character (no CSV header starts with '['), else CSV
    if (/\.json$/i.test(contactsFile) || text.trimStart().startsWith('[')) {
      let contacts: unknown;
      try { contacts = JSON.parse(text); } catch (err) {
        io.err(`${cmd}: ${contactsFile} is not JSON (${(err as Error).message})\n`);
        return EXIT.FAILURE;
      }
      if (!Array.isArray(contacts)) { io.err(`${cmd}: ${contactsFile} must hold a JSON array of contacts\n`); return EXIT.FAILURE; }
      b.contacts = contacts;
    } else {
      b.contactsCsv = text;
    }
  }
  if (paused === true) b.start = false;
  return b;
}

/** A file's text (relative to the working directory), or null with the reason on stderr. */
function readText(io: CliIo, cmd: string, file: string): string | null {
  try {
    return readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    io.err(`${cmd}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
    return null;
  }
}
