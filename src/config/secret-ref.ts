/**
 * Resolution of secret values. A secret is written as a literal string, as `env:NAME` (read from
 * the environment given to the loader) or as `cred:NAME` (read from the file NAME in systemd's
 * $CREDENTIALS_DIRECTORY, see systemd.exec(5) LoadCredential=). Pure: I/O comes in as functions.
 */

/** Reads one credential by name; returns the file content or the reason it could not be read. */
export type CredentialReader = (name: string) => { ok: true; value: string } | { ok: false; reason: string };

export interface SecretContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Undefined when no credentials directory is known. */
  readCredential?: CredentialReader;
}

/** Why a secret could not be resolved; `missing` means the reference was fine but had no value. */
export type SecretResult =
  | { ok: true; value: string }
  | { ok: false; missing: boolean; expected: string; found: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// systemd credential names: no slashes, not "." or "..".
const CRED_NAME = /^(?!\.\.?$)[A-Za-z0-9._@-]+$/;

/** Resolves a secret string (already known to be a non-empty string). */
export function resolveSecret(raw: string, ctx: SecretContext): SecretResult {
  if (raw.startsWith('env:')) {
    const name = raw.slice(4);
    if (!ENV_NAME.test(name)) {
      return { ok: false, missing: false, expected: 'env:NAME with NAME an environment variable name (letters, digits, _)', found: JSON.stringify(raw) };
    }
    const value = ctx.env[name];
    if (value === undefined || value === '') {
      return {
        ok: false, missing: true,
        expected: `environment variable ${name} to be set (from "${raw}")`,
        found: value === undefined ? 'it unset' : 'it empty',
      };
    }
    return { ok: true, value };
  }
  if (raw.startsWith('cred:')) {
    const name = raw.slice(5);
    if (!CRED_NAME.test(name)) {
      return { ok: false, missing: false, expected: 'cred:NAME with NAME a credential file name (letters, digits, . _ - @, no slash)', found: JSON.stringify(raw) };
    }
    const expected = `credential ${name} in the credentials directory (from "${raw}")`;
    if (!ctx.readCredential) {
      return { ok: false, missing: true, expected, found: 'no credentials directory (CREDENTIALS_DIRECTORY is not set)' };
    }
    const read = ctx.readCredential(name);
    if (!read.ok) return { ok: false, missing: true, expected, found: read.reason };
    // Credential files are often written with `echo`, which appends one newline.
    const value = read.value.replace(/\r?\n$/, '');
    if (value === '') return { ok: false, missing: true, expected, found: 'an empty file' };
    return { ok: true, value };
  }
  return { ok: true, value: raw };
}
