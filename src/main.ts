#!/usr/bin/env node
/**
 * The only file that touches `process`: argv, environment, signals, exit codes. Every command
 * lives in src/cli/ and returns its exit code.
 */
import { runCli } from './cli/index.js';
import type { CliIo } from './cli/io.js';

const stopSignal = new Promise<string>((resolve) => {
  const on = (sig: string) => () => resolve(sig);
  process.once('SIGTERM', on('SIGTERM'));
  process.once('SIGINT', on('SIGINT'));
});

const io: CliIo = {
  out: (s) => { process.stdout.write(s); },
  err: (s) => { process.stderr.write(s); },
  env: process.env,
  cwd: process.cwd(),
  stopSignal,
};

runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
    // Listeners are closed by the commands; a stray handle must not keep a stopped daemon alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`fsbridge: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
