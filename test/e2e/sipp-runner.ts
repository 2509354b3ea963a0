// Runs sipp as a child process for e2e tests (loopback only).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, isAbsolute, join } from 'node:path';

export { freeUdpPort, waitUdpBound } from '../../bench/lib/udp-port.js';

export const SIPP_DIR = join(dirname(fileURLToPath(import.meta.url)), 'sipp');

/** True when the binary is on PATH. */
export function haveBinary(name: string): boolean {
  try { execFileSync('which', [name], { stdio: 'ignore' }); return true; } catch { return false; }
}

/**
 * Why the sipp tests cannot run here (one line saying how to get it: sipp and its audio files come
 * with Debian's sip-tester), or false. With CI=true it throws instead: CI must not skip them.
 */
export function sippSkipReason(pcap?: string): string | false {
  const why = !haveBinary('sipp') ? 'sipp not installed: apt-get install sip-tester'
    : pcap !== undefined && !existsSync(pcap) ? `no ${pcap}: apt-get install sip-tester` : false;
  if (why && process.env.CI === 'true') throw new Error(`${why}; CI must not skip the sipp tests`);
  return why;
}

/**
 * A copy of uas-trunk-answer-pcap.xml (a callee that answers with PCMU and plays a pcap) in `dir`
 * that plays `pcap`: sipp takes the path when it loads the scenario, not from `-key`.
 */
export function pcapScenario(dir: string, pcap: string): string {
  const file = join(dir, `uas-trunk-answer-pcap-${Date.now()}.xml`);
  writeFileSync(file, readFileSync(join(SIPP_DIR, 'uas-trunk-answer-pcap.xml'), 'utf8').replaceAll('PCAP_PATH', pcap));
  return file;
}

export interface SippRun { child: ChildProcess; done: Promise<{ code: number | null; output: string }> }

/** Starts sipp with a scenario file from test/e2e/sipp (or an absolute path); exits after `calls` calls or `timeoutSec`. */
export function runSipp(scenario: string, opts: { port: number; mediaPort: number; remote?: string; calls?: number; timeoutSec?: number; extra?: string[] }): SippRun {
  const args = [
    '-sf', isAbsolute(scenario) ? scenario : join(SIPP_DIR, scenario), '-i', '127.0.0.1', '-p', String(opts.port), '-mp', String(opts.mediaPort),
    '-m', String(opts.calls ?? 1), '-timeout', `${opts.timeoutSec ?? 15}s`, '-timeout_error', '-nostdin', '-nd',
    ...(opts.extra ?? []), ...(opts.remote ? [opts.remote] : []),
  ];
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b) => { output += b; if (output.length > 200_000) output = output.slice(-100_000); });
  child.stderr?.on('data', (b) => { output += b; if (output.length > 200_000) output = output.slice(-100_000); });
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('exit', (code) => resolve({ code, output })));
  return { child, done };
}

