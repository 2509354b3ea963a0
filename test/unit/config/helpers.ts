// Shared inputs for the configuration tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLE_FILE = join(ROOT, 'config/fsbridge.example.yaml');
export const DEV_FILE = join(ROOT, 'config/dev.yaml');
export const DOC_FILE = join(ROOT, 'docs/configuration.md');

/** The smallest valid configuration (secrets literal). */
export const MINIMAL = 'freeswitch: { esl: { password: eslpw } }\napi: { token: apitok }\n';

/** A temporary credentials directory holding `files`; removed by the returned function. */
export function credentialsDir(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fsbridge-cred-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Credentials named in config/fsbridge.example.yaml, each with a distinctive value. */
export const EXAMPLE_CREDENTIALS: Record<string, string> = {
  esl_password: 'SECRET-esl-7f3a\n',
  drachtio_secret: 'SECRET-drachtio-91c2',
  operator_a_password: 'SECRET-trunk-44d0\n',
  support_bot_authorization: 'Bearer SECRET-bot-0b1e',
  api_token: 'SECRET-api-c0ffee',
};
