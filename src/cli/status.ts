import type { ParsedArgs } from './args.js';
import { flagStr } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';

/** `fsbridge status`: prints the live calls from the HTTP API (token from --token or FSBRIDGE_API_TOKEN). */
export async function statusCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const api = flagStr(args, 'api') ?? 'http://127.0.0.1:8080';
  const token = flagStr(args, 'token') ?? io.env.FSBRIDGE_API_TOKEN ?? '';
  try {
    const res = await fetch(`${api}/v1/calls?state=live`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      io.err(`fsbridge: the API answered ${res.status}\n`);
      return EXIT.FAILURE;
    }
    io.out(JSON.stringify(await res.json(), null, 2) + '\n');
    return EXIT.OK;
  } catch (err) {
    io.err(`fsbridge: cannot reach the API at ${api}: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
}
