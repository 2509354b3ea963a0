// What the recording tests check on the encrypted files under a directory.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The files under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** How many 16-byte runs of `plain`, taken every `step` bytes, appear as they are in `file`. */
export function clearRuns(file: Buffer, plain: Buffer, step = 1001): number {
  let found = 0;
  for (let off = 0; off + 16 <= plain.length; off += step) if (file.includes(plain.subarray(off, off + 16))) found++;
  return found;
}
