/** Public API of the configuration module. */
export { loadConfig, type LoadConfigOptions, type LoadConfigResult } from './load.js';
export { checkConfig, printConfig, summarize, type CommandResult } from './commands.js';
export { redactConfig, type PlainValue } from './redact.js';
export { SECRET_CONFIG_PATHS, REDACTED, secretLogPaths, isSecretPath } from './secrets.js';
export { CONFIG_ERRORS, type ConfigErrorCode } from './error-codes.js';
export type { ConfigError } from './config-error.js';
export type * from './schema.js';
export { CONFIG_SCHEMA, schemaRows } from './schema.js';
