/** Where a CLI command writes; main.ts passes process.stdout/stderr, tests pass buffers. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT), for long-running commands. */
  stopSignal: Promise<string>;
  /**
   * Registers the handler of a reload request (SIGHUP: `systemctl reload`). Until a handler is
   * registered a reload request is ignored: it never stops the process.
   */
  onReload?(handler: () => void): void;
  /**
   * Registers the handler of a promise rejection nobody handled (the process-level backstop): it
   * is reported there instead of ending the process and every call on it.
   */
  onUnhandledRejection?(handler: (reason: unknown) => void): void;
  /** The process's active handles and requests (sockets, timers, ...), for /metrics. */
  activeResources?(): number;
}
