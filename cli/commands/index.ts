/**
 * Every command of the CLI, in the order `fiscus --help` lists them.
 * A command module exports `register(program, ctx)`.
 *
 * Modules are loaded on demand: a run of `fiscus query` should not pay for
 * loading fastify, ECharts and playwright. Only `--help` and unknown words
 * load them all.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context.ts';

export type RegisterCommand = (program: Command<[], { db?: string; logKey?: string; checkpoints?: string }>, ctx: CliContext) => void;

type Loader = () => Promise<{ register: RegisterCommand }>;

export const COMMANDS: Record<string, Loader> = {
  demo: () => import('./demo.ts'),
  ingest: () => import('./ingest.ts'),
  watch: () => import('./watch.ts'),
  mapping: () => import('./mapping.ts'),
  batches: () => import('./batches.ts'),
  quarantine: () => import('./quarantine.ts'),
  query: () => import('./query.ts'),
  rules: () => import('./rules.ts'),
  flags: () => import('./flags.ts'),
  track: () => import('./track.ts'),
  projects: () => import('./projects.ts'),
  log: () => import('./log.ts'),
  report: () => import('./report.ts'),
  serve: () => import('./serve.ts'),
  webhooks: () => import('./webhooks.ts'),
  backup: () => import('./backup.ts'),
  restore: () => import('./restore.ts'),
  fixtures: () => import('./fixtures.ts'),
  bench: () => import('./bench.ts'),
};

/** The register functions needed for `argv`: the named command's, or all of them. */
export async function commandsFor(argv: readonly string[]): Promise<RegisterCommand[]> {
  const name = commandName(argv.slice(2));
  const names = name !== undefined && name in COMMANDS ? [name] : Object.keys(COMMANDS);
  return Promise.all(names.map(async (n) => (await COMMANDS[n]!()).register));
}

/** The first word that is not a global option (`--db FILE` / `--db=FILE`, `--log-key`, `--checkpoints`). */
function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--db' || a === '--log-key' || a === '--checkpoints') {
      i++;
      continue;
    }
    if (a.startsWith('-')) return undefined; // --help, --version, or an unknown option: show everything
    return a;
  }
  return undefined;
}
