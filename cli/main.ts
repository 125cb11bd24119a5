/**
 * The `fiscus` command line. Each command lives in `cli/commands/<name>.ts`
 * and registers itself here; this file only wires options, exit codes and
 * error reporting: 0 ok, 1 failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { FiscusError } from '../engine/errors.ts';
import { CliContext, isStdoutClosed, processIO, StdoutClosed, type CliIO } from './context.ts';
import { commandsFor, type RegisterCommand } from './commands/index.ts';

export function buildProgram(ctx: CliContext, io: CliIO, commands: readonly RegisterCommand[]): Command<[], { db?: string; logKey?: string; checkpoints?: string }> {
  const program = new Command('fiscus')
    .description('预算联网监督分析引擎 — budget networked supervision engine')
    .option('--db <file|url>', 'DuckDB database file, or a PostgreSQL URL postgres://user@host:port/db (env FISCUS_DB, default ./data/fiscus.duckdb)')
    .option('--log-key <file>', 'event log key, outside the database (env FISCUS_LOG_KEY, default beside the database: data/fiscus.log-key)')
    .option('--checkpoints <file>', 'signed checkpoint log of the event log (env FISCUS_CHECKPOINTS, default beside the key: data/fiscus.checkpoints.jsonl)')
    .version(packageVersion(), '-V, --version', 'print the version of fiscus')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const register of commands) register(program, ctx);
  // Sub-commands inherit exitOverride and output settings.
  program.commands.forEach(function apply(c: Command<any, any, any>) {
    c.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) }).showHelpAfterError();
    c.commands.forEach((sub) => apply(sub as Command<any, any, any>));
  });
  return program;
}

/** The `version` of package.json, the one place it is written down. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Run the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  let program: Command<[], { db?: string; logKey?: string; checkpoints?: string }> | undefined;
  const ctx = new CliContext(io, () => program?.opts() ?? {});
  try {
    // `fiscus --version` needs no command module loaded.
    const onlyVersion = argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V');
    program = buildProgram(ctx, io, onlyVersion ? [] : await commandsFor(argv));
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // The reader of stdout went away (`| head`): what it wanted it has; end quietly.
    if (err instanceof StdoutClosed || (io === processIO && isStdoutClosed())) return 0;
    return reportError(err, io);
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

function reportError(err: unknown, io: CliIO): number {
  if (err instanceof CommanderError) {
    // --help and --version exit through here with code 0.
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return 0;
    return 2;
  }
  if (err instanceof FiscusError) {
    io.err(`fiscus: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  io.err(`fiscus: ${e.message}\n`);
  if (process.env.FISCUS_DEBUG) io.err(`${e.stack}\n`);
  return 1;
}
