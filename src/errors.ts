/**
 * Every stable error code fsbridge reports, with its consequence. Each area keeps its own table
 * in `<area>/error-codes.ts`; this file merges them. docs/errors.md is checked against this list
 * by test/unit/errors.docs.test.ts.
 */
export interface ErrorCodeInfo {
  /** What went wrong, in one sentence. */
  meaning: string;
  /** What fsbridge does about it: 'call ends', 'message dropped', 'fatal', 'retry', ... */
  consequence: string;
}
export type ErrorTable = Record<string, ErrorCodeInfo>;

/** An exception that carries a stable code. Branch on `code`, never on `message`. */
export class FsbridgeError extends Error {
  constructor(readonly code: string, message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'FsbridgeError';
  }
}
