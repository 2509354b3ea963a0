/**
 * A named pipe (FIFO) that fsbridge writes and FreeSWITCH reads: the I/O of 'pipe' playback.
 *
 * It is opened read-write and non-blocking (Linux allows that on a FIFO, fifo(7)): the open never
 * waits for FreeSWITCH, FreeSWITCH's own open for reading returns at once because a writer exists,
 * and as fsbridge is a reader too a write never fails with EPIPE (no SIGPIPE, no error storm) when
 * FreeSWITCH stops reading (hang-up, uuid_break, transfer): the pipe fills instead and a write
 * returns false (EAGAIN); the owner stops writing when FreeSWITCH reports the playback's end.
 * close() closes the descriptor, which FreeSWITCH sees as the end of the file, and unlinks the path.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, lstatSync, mkdirSync, open, readdirSync, readFileSync, readlinkSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const openFile = promisify(open);

export class Fifo {
  private fd: number | null;
  /** Writes that failed with an error other than a full pipe (the descriptor is unusable). */
  writeErrors = 0;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  /**
   * Makes the FIFO (`mkfifo -m <mode>`; the directory must exist) and opens it. Rejects with the
   * system error (EEXIST, EACCES, ENOENT …); nothing is left behind then.
   */
  static async create(path: string, mode = 0o640): Promise<Fifo> {
    await run('mkfifo', ['-m', mode.toString(8), '--', path]);
    try {
      const fd = await openFile(path, constants.O_RDWR | constants.O_NONBLOCK);
      return new Fifo(path, fd);
    } catch (err) {
      try { unlinkSync(path); } catch { /* already gone */ }
      throw err;
    }
  }

  /** True until close(). */
  get open(): boolean {
    return this.fd !== null;
  }

  /**
   * Writes `buf` whole (a frame is far below PIPE_BUF, so a write is atomic). False when the pipe
   * is full or closed, or the write failed.
   */
  write(buf: Buffer): boolean {
    if (this.fd === null) return false;
    try {
      return writeSync(this.fd, buf) === buf.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.writeErrors++;
      return false;
    }
  }

  /** Discards what is written and not read yet (before a new reader starts). Returns the bytes dropped. */
  drain(): number {
    if (this.fd === null) return 0;
    const scratch = Buffer.alloc(65536);
    let dropped = 0;
    for (let i = 0; i < 64; i++) {
      let n = 0;
      try { n = readSync(this.fd, scratch, 0, scratch.length, null); } catch { break; }
      if (n <= 0) break;
      dropped += n;
    }
    return dropped;
  }

  /** Closes (FreeSWITCH's reader sees the end of the file) and unlinks. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}

/** A playback pipe's file name: `<call id>.<codec>`. */
const PIPE_NAME = /^[A-Za-z0-9_-]{1,128}\.(L16|PCMU|PCMA)$/;

/**
 * Makes the pipe directory (mode 0750, parents too) if it is missing, and removes the playback
 * pipes a crashed run left in it (FIFOs named like one; nothing else is touched). Returns how many
 * were removed. Throws when the directory cannot be made or read.
 */
export function preparePipeDir(dir: string): number {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  let removed = 0;
  for (const name of readdirSync(dir)) {
    if (!PIPE_NAME.test(name)) continue;
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isFIFO()) continue;
      unlinkSync(path);
      removed++;
    } catch { /* gone meanwhile */ }
  }
  return removed;
}

/**
 * Releases the playback pipes of calls whose writer is gone without closing them (a media worker
 * that died): closes the descriptors this process still holds on them for writing (a descriptor
 * belongs to the process, not to the thread that opened it; FreeSWITCH's reader sees the end of
 * the file once none is left), then unlinks them. Linux (/proc/self/fd). Returns how many pipes
 * were removed.
 */
export function releaseCallPipes(dir: string, callIds: ReadonlySet<string>): number {
  const base = resolve(dir);
  const ours = (name: string) => PIPE_NAME.test(name) && callIds.has(name.slice(0, name.lastIndexOf('.')));
  let fds: string[] = [];
  try { fds = readdirSync('/proc/self/fd'); } catch { /* not Linux: nothing to close */ }
  for (const fd of fds) {
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (dirname(target) !== base || !ours(basename(target))) continue;
    // Only fsbridge's own writer ends (Fifo opens them O_RDWR); a reader in this process is not ours.
    if (openedReadWrite(fd)) try { closeSync(Number(fd)); } catch { /* closed meanwhile */ }
  }
  let removed = 0;
  let names: string[] = [];
  try { names = readdirSync(base); } catch { return 0; }
  for (const name of names.filter(ours)) {
    try { unlinkSync(join(base, name)); removed++; } catch { /* gone meanwhile */ }
  }
  return removed;
}

/** Whether descriptor `fd` of this process was opened O_RDWR (the `flags:` line of /proc/self/fdinfo, octal). */
function openedReadWrite(fd: string): boolean {
  try {
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & 3) === constants.O_RDWR;
  } catch {
    return false;
  }
}
