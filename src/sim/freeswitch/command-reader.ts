/** One command as FreeSWITCH's `read_packet` parses it. */
export interface EslCommand {
  /** The first line, CR/LF stripped (the pseudo header `Command`). */
  readonly line: string;
  /** `Name: value` lines in order; value after the first `:` minus leading spaces, not decoded. */
  readonly headers: readonly (readonly [string, string])[];
  /** Exactly `Content-Length` bytes, when that header was present. */
  readonly body?: Buffer;
}

/** A Content-Length above this (or below 0) makes FreeSWITCH drop the connection (MAX_CONTENT_LENGTH). */
export const MAX_CONTENT_LENGTH = 16 * 1024 * 1024;
/** A header block that reaches this size is treated as complete (read_packet's buffer cap). */
export const MAX_HEADER_BYTES = 10 * 1024 * 1024;

/** Case-insensitive header lookup (switch_event_get_header uses strcasecmp). */
export function cmdHeader(cmd: EslCommand, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of cmd.headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Incremental command reader with FreeSWITCH's rules (mod_event_socket.c `read_packet`): the
 * header block ends at two LFs in a row with CR bytes ignored in the count; CR/LF before a
 * command are skipped; a `content-length` header (any case) makes exactly that many body bytes
 * follow; a negative or > 16 MiB length means "drop the connection". Pure: feed bytes with
 * push(), take commands with next().
 */
export class CommandReader {
  private buf: Buffer = Buffer.alloc(0);
  private pending: { line: string; headers: [string, string][]; bodyLen: number } | undefined;

  /** Appends received bytes. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** True when bytes of an unfinished command are buffered (events must not be flushed then). */
  hasPartial(): boolean {
    if (this.pending) return true;
    for (const b of this.buf) if (b !== 0x0d && b !== 0x0a) return true;
    return false;
  }

  /** The next complete command, 'drop' for a fatal framing error, or undefined (need more bytes). */
  next(): EslCommand | 'drop' | undefined {
    if (!this.pending) {
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === 0x0d || this.buf[start] === 0x0a)) start++;
      let lf = 0;
      let end = -1;
      for (let i = start; i < this.buf.length; i++) {
        const b = this.buf[i];
        if (b === 0x0a) {
          lf++;
          if (lf === 2) { end = i + 1; break; }
        } else if (b !== 0x0d) {
          lf = 0;
        }
        if (i - start + 1 >= MAX_HEADER_BYTES) { end = i + 1; break; }
      }
      if (end < 0) {
        if (start > 0) this.buf = this.buf.subarray(start);
        return undefined;
      }
      const head = this.buf.subarray(start, end).toString('latin1');
      this.buf = this.buf.subarray(end);
      const lines = head.split(/[\r\n]+/).filter((l) => l !== '');
      const line = Buffer.from(lines[0] ?? '', 'latin1').toString('utf8');
      const headers: [string, string][] = [];
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        if (c < 0) continue;
        const name = Buffer.from(l.slice(0, c), 'latin1').toString('utf8');
        const value = Buffer.from(l.slice(c + 1).replace(/^ +/, ''), 'latin1').toString('utf8');
        headers.push([name, value]);
      }
      const cl = headers.find(([k]) => k.toLowerCase() === 'content-length');
      let bodyLen = -1;
      if (cl) {
        const n = Number.parseInt(cl[1], 10);
        const len = Number.isNaN(n) ? 0 : n;
        if (len < 0 || len > MAX_CONTENT_LENGTH) return 'drop';
        bodyLen = len;
      }
      this.pending = { line, headers, bodyLen };
    }
    const p = this.pending;
    if (p.bodyLen < 0) {
      this.pending = undefined;
      return { line: p.line, headers: p.headers };
    }
    if (this.buf.length < p.bodyLen) return undefined;
    const body = Buffer.from(this.buf.subarray(0, p.bodyLen));
    this.buf = this.buf.subarray(p.bodyLen);
    this.pending = undefined;
    return { line: p.line, headers: p.headers, body };
  }
}
