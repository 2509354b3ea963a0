/** Where a CLI command writes; main.ts passes process.stdout/stderr, tests pass buffers. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT), for long-running commands. */
  stopSignal: Promise<string>;
}
