import { createWriteStream, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ParsedArgs } from './args.js';
import type { CliIo } from './io.js';
import { EXIT } from './exit-codes.js';
import { loadOptions } from './config-commands.js';
import { loadConfig } from '../config/index.js';
import { parseHostPort } from '../config/formats.js';

/**
 * How long the daemon may take to answer a request (until its status line), in ms. A body
 * streamed after it (an export) is not bounded here: the daemon ends or cuts it.
 */
export const API_ANSWER_TIMEOUT_MS = 120_000;

/** The running daemon's HTTP API as its configuration names it. */
export interface DaemonApi {
  /** `host:port` to connect to: a wildcard listen address is reached on loopback. */
  where: string;
  /** The configured `api.token` (an admin). */
  token: string;
}

/**
 * The API of the daemon the configuration (`--config`) describes. An invalid configuration is
 * reported (every error, prefixed with `cmd`) and resolves the exit code EXIT.CONFIG_INVALID
 * instead.
 */
export function daemonApi(args: ParsedArgs, io: CliIo, cmd: string): DaemonApi | number {
  const loaded = loadConfig(loadOptions(args, io));
  if (!loaded.ok) {
    io.err(`${cmd}: invalid configuration:\n${loaded.errors.map((e) => `  ${e.message}`).join('\n')}\n`);
    return EXIT.CONFIG_INVALID;
  }
  const hp = parseHostPort(loaded.config.api.listen, 0)!;
  const host = hp.host === '0.0.0.0' || hp.host === '::' ? '127.0.0.1' : hp.host.includes(':') ? `[${hp.host}]` : hp.host;
  return { where: `${host}:${hp.port}`, token: loaded.config.api.token };
}

/**
 * One request to the daemon's API (`path` starts with `/v1/`; `body` is sent as JSON). Resolves
 * the response when its status is 2xx. Otherwise the failure is written to stderr, prefixed with
 * `cmd` (the API's status and error code, or that the daemon cannot be reached: not running, or
 * not answering within API_ANSWER_TIMEOUT_MS), and it resolves EXIT.FAILURE. Never rejects.
 */
export async function apiRequest(api: DaemonApi, io: CliIo, cmd: string, method: string, path: string, body?: unknown): Promise<Response | number> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no answer within ${API_ANSWER_TIMEOUT_MS / 1000} s`)), API_ANSWER_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(`http://${api.where}${path}`, {
      method, signal: ac.signal,
      headers: { authorization: `Bearer ${api.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    io.err(`${cmd}: cannot reach the daemon's API at ${api.where} (${reason(err)}); is fsbridge running with this configuration?\n`);
    return EXIT.FAILURE;
  } finally {
    clearTimeout(timer);
  }
  if (res.ok) return res;
  io.err(`${cmd}: the API answered ${res.status} ${describeError(await res.text().catch(() => ''))}\n`);
  return EXIT.FAILURE;
}

/** A 2xx JSON answer, indented, on stdout; resolves EXIT.OK (or EXIT.FAILURE when it was cut short). */
export async function printJson(res: Response, io: CliIo, cmd: string): Promise<number> {
  let text: string;
  try { text = await res.text(); } catch (err) { io.err(`${cmd}: the answer was cut short (${reason(err)})\n`); return EXIT.FAILURE; }
  try { io.out(JSON.stringify(JSON.parse(text), null, 2) + '\n'); } catch { io.out(text + '\n'); }
  return EXIT.OK;
}

/**
 * Streams a 2xx answer's body (a CSV export) to stdout, or to `outFile` (resolved from the
 * working directory) with back-pressure. A body cut short (the daemon failed half-way) resolves
 * EXIT.FAILURE, and the file is removed so that no partial export looks complete.
 */
export async function saveBody(res: Response, io: CliIo, cmd: string, outFile: string | undefined): Promise<number> {
  const file = outFile === undefined ? undefined : resolve(io.cwd, outFile);
  try {
    if (res.body === null) {
      if (file) await pipeline(Readable.from([]), createWriteStream(file));
      return EXIT.OK;
    }
    const chunks = res.body as AsyncIterable<Uint8Array>;
    if (file) {
      await pipeline(chunks, createWriteStream(file));
    } else {
      const text = new TextDecoder();
      for await (const chunk of chunks) io.out(text.decode(chunk, { stream: true }));
      const tail = text.decode();
      if (tail) io.out(tail);
    }
    return EXIT.OK;
  } catch (err) {
    if (file) rmSync(file, { force: true });
    io.err(`${cmd}: the answer was cut short (${reason(err)})${file ? `; ${file} was removed` : '; the output is incomplete'}\n`);
    return EXIT.FAILURE;
  }
}

/** fetch() hides the socket's error (ECONNREFUSED …) in `cause`. */
function reason(err: unknown): string {
  const e = err as (Error & { cause?: Error }) | undefined;
  return e?.cause?.message ?? e?.message ?? String(err);
}

/** An API error body `{ error: { code, message, problems? } }` as one line (else the body as it came). */
function describeError(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string; problems?: string[] } }).error;
    if (e && typeof e === 'object' && typeof e.code === 'string') {
      const problems = Array.isArray(e.problems) ? e.problems : [];
      return `${e.code}: ${e.message ?? 'request refused'}${problems.map((p) => `\n  ${p}`).join('')}`;
    }
  } catch { /* not JSON: shown as it came */ }
  return body;
}
