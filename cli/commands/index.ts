/**
 * Every command of the CLI, in the order `fiscus --help` lists them.
 * A command module exports `register(program, ctx)`.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context.ts';
import { register as batches } from './batches.ts';
import { register as bench } from './bench.ts';
import { register as fixtures } from './fixtures.ts';
import { register as flags } from './flags.ts';
import { register as ingest } from './ingest.ts';
import { register as quarantine } from './quarantine.ts';
import { register as demo } from './demo.ts';
import { register as query } from './query.ts';
import { register as report } from './report.ts';
import { register as rules } from './rules.ts';
import { register as serve } from './serve.ts';
import { register as track } from './track.ts';

export type RegisterCommand = (program: Command<[], { db?: string }>, ctx: CliContext) => void;

export const COMMANDS: RegisterCommand[] = [demo, ingest, batches, quarantine, query, fixtures, bench, report, track, rules, flags, serve];
