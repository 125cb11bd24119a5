/**
 * Every command of the CLI, in the order `fiscus --help` lists them.
 * A command module exports `register(program, ctx)`.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context.ts';
import { register as query } from './query.ts';

export type RegisterCommand = (program: Command<[], { db?: string }>, ctx: CliContext) => void;

export const COMMANDS: RegisterCommand[] = [query];
