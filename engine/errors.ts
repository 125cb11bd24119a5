/**
 * Errors a user can act on. The CLI prints `message` alone (no stack) and exits
 * with `exitCode`; the API maps `httpStatus` to an RFC 9457 problem.
 */
export class FiscusError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly httpStatus: number;
  readonly details?: unknown;

  constructor(message: string, opts: { code?: string; exitCode?: number; httpStatus?: number; details?: unknown } = {}) {
    super(message);
    this.name = 'FiscusError';
    this.code = opts.code ?? 'FISCUS_ERROR';
    this.exitCode = opts.exitCode ?? 1;
    this.httpStatus = opts.httpStatus ?? 400;
    this.details = opts.details;
  }
}

/** A usage error: wrong arguments or options (CLI exit code 2). */
export class UsageError extends FiscusError {
  constructor(message: string, details?: unknown) {
    super(message, { code: 'USAGE', exitCode: 2, httpStatus: 400, details });
    this.name = 'UsageError';
  }
}
