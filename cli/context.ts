/**
 * What every command shares: the global options, the database, and how
 * output and errors leave the process (data to stdout, logs to stderr).
 */
import { DEFAULT_DB_PATH, openStore, type OpenOptions, type Store } from '../engine/db.ts';
import { UsageError } from '../engine/errors.ts';
import { configureLog, type LogConfig } from '../engine/log-key.ts';
import { isOutputFormat, OUTPUT_FORMATS, type OutputFormat } from '../engine/format.ts';

export interface GlobalOptions {
  db?: string;
  logKey?: string;
  checkpoints?: string;
}

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stderr is a terminal: progress bars only then. */
  interactive: boolean;
  /** The terminal's width when stdout is one (tables fit it); undefined otherwise. */
  columns?: number;
}

/**
 * Thrown by `processIO.out` once stdout's reader has gone (`fiscus flags | head -1`):
 * the command stops producing output and `main` ends quietly with exit 0, as `cat`
 * and `grep` do, instead of Node's "Unhandled 'error' event … write EPIPE".
 */
export class StdoutClosed extends Error {
  constructor() {
    super('stdout closed');
    this.name = 'StdoutClosed';
  }
}

let stdoutClosed = false;
let stdoutWatched = false;
let stderrClosed = false;

/** True once a write to stdout failed with EPIPE (the reading end of the pipe is closed). */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** Listen once for stdout's 'error': EPIPE marks it closed; anything else is rethrown as before. */
function watchStdout(): void {
  if (stdoutWatched) return;
  stdoutWatched = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      stdoutClosed = true;
      return;
    }
    throw err;
  });
  // `fiscus … 2>&1 | head`: stderr goes into the same closed pipe; notes are dropped, not fatal.
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      stderrClosed = true;
      return;
    }
    throw err;
  });
}

export const processIO: CliIO = {
  out: (t) => {
    watchStdout();
    if (stdoutClosed || process.stdout.destroyed) {
      stdoutClosed = true;
      throw new StdoutClosed();
    }
    process.stdout.write(t);
  },
  err: (t) => {
    watchStdout();
    if (!stderrClosed && !process.stderr.destroyed) process.stderr.write(t);
  },
  interactive: Boolean(process.stderr.isTTY),
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
};

export class CliContext {
  private store?: Store;

  constructor(
    readonly io: CliIO,
    private readonly globals: () => GlobalOptions,
  ) {}

  /** `--db`, else FISCUS_DB, else ./data/fiscus.duckdb. */
  get dbPath(): string {
    return this.globals().db ?? process.env.FISCUS_DB ?? DEFAULT_DB_PATH;
  }

  async open(opts: OpenOptions = {}): Promise<Store> {
    if (!this.store) {
      this.store = await openStore(this.dbPath, opts);
      // Where the event log's key and checkpoints live (engine/log-key.ts); unset: env, else beside the database.
      configureLog(this.store, this.logConfig);
    }
    return this.store;
  }

  /** `--log-key` / `--checkpoints` as given (env and defaults are resolved per store). */
  get logConfig(): LogConfig {
    const g = this.globals();
    return { keyFile: g.logKey, checkpointsFile: g.checkpoints };
  }

  async close(): Promise<void> {
    await this.store?.close();
    this.store = undefined;
  }

  log(line: string): void {
    this.io.err(`${line}\n`);
  }
}

export function parseFormat(value: string, allowed: readonly OutputFormat[] = OUTPUT_FORMATS): OutputFormat {
  if (!isOutputFormat(value) || !allowed.includes(value)) {
    throw new UsageError(`--format must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value;
}
