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

// SIGHUP (`systemctl reload`) must never end the daemon: Node's default action would exit.
let reload: () => void = () => {};
process.on('SIGHUP', () => reload());
// Backstop: a rejection nobody handled is a bug in one call's code path; it is reported (logged
// and counted by the command that registered a handler) instead of ending every call on the host.
let unhandled: (reason: unknown) => void = (reason) => {
  process.stderr.write(`fsbridge: unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}\n`);
};
process.on('unhandledRejection', (reason) => unhandled(reason));

const io: CliIo = {
  out: (s) => { process.stdout.write(s); },
  err: (s) => { process.stderr.write(s); },
  env: process.env,
  cwd: process.cwd(),
  stopSignal,
  onReload: (h) => { reload = h; },
  onUnhandledRejection: (h) => { unhandled = h; },
  activeResources: () => process.getActiveResourcesInfo().length,
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
