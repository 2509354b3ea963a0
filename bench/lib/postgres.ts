// A real PostgreSQL server for the store tests and benchmarks: Debian's `postgresql` package (its
// initdb and postgres binaries), a cluster initialised in a temporary directory, listening on
// loopback on a free port, owned by whoever started it (destroy() stops it and removes the
// directory). As root (CI), the cluster runs as the package's `postgres` user: PostgreSQL refuses
// to run as root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { freeTcpPort } from './ports.js';

/** The directory of initdb/postgres: Debian's /usr/lib/postgresql/<version>/bin, newest first. */
function pgBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => /^[0-9]+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'postgres'))) return join(base, v, 'bin');
  return null;
}

/** Whether Debian's PostgreSQL binaries are installed. */
export function postgresInstalled(): boolean {
  return pgBinDir() !== null;
}

export interface PgServer {
  port: number;
  /** The password of the `fsbridge` superuser (scram-sha-256: a wrong or missing one is refused). */
  password: string;
  /** A new, empty database; its URL (without the password). */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: clients are disconnected); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The last lines the server wrote. */
  log(lines: number): string;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

const PASSWORD = 'fsbridge-test-pw';

/** Initialises and starts a cluster. */
export async function launchPostgres(): Promise<PgServer> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-pg-'));
  const data = join(dir, 'data');
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, PASSWORD + '\n');
  const asRoot = process.getuid?.() === 0;
  // setpriv execs the program itself (no process in between), so signals reach postgres directly
  const runAs = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', cmd, ...args]] : [cmd, args]);
  if (asRoot) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
    chownSync(pwFile, id('-u'), id('-g'));
  }
  const [initCmd, initArgs] = runAs(join(bin, 'initdb'), ['-D', data, '-U', 'fsbridge', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freeTcpPort();
  let child: ChildProcess | null = null;
  let log = '';

  const admin = () => new pg.Client({ host: '127.0.0.1', port, user: 'fsbridge', password: PASSWORD, database: 'postgres' });
  const server: PgServer = {
    port, password: PASSWORD,
    async createDatabase(name) {
      const c = admin();
      await c.connect();
      try { await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`); } finally { await c.end(); }
      return `postgres://fsbridge@127.0.0.1:${port}/${name}`;
    },
    async start() {
      const [cmd, args] = runAs(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200']);
      const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = p;
      p.stdout?.on('data', (b: Buffer) => { log += b; });
      p.stderr?.on('data', (b: Buffer) => { log += b; });
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (p.exitCode !== null) throw new Error(`postgres exited (${p.exitCode}): ${log.slice(-2000)}`);
        const c = admin();
        try { await c.connect(); await c.end(); return; } catch { c.end().catch(() => {}); }
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections in 30 s: ${log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    log: () => '',
    destroy: async () => {},
    async stop() {
      const p = child;
      child = null;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      // SIGINT is postgres's fast shutdown
      p.kill('SIGINT');
      const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  server.log = (n) => log.split('\n').slice(-n).join('\n');
  server.destroy = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.start();
  } catch (err) {
    // a postgres that started but never answered is stopped too
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return server;
}
