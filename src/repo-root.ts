/**
 * The fsbridge install or checkout this code runs from (the folder with package.json and
 * dialplans/), found from this file upwards whether it runs from src/ or dist/src/; the working
 * directory when none is found.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'dialplans')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}
