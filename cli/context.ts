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
}

export const processIO: CliIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  interactive: Boolean(process.stderr.isTTY),
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
