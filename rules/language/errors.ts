/**
 * Errors in rule files. Every one points at a place in a file so an analyst
 * can jump to it: `file:line:col: message` (1-based).
 */
import { closest } from '../../engine/did-you-mean.ts';
import { FiscusError } from '../../engine/errors.ts';

export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export type DiagnosticSeverity = 'error' | 'warning';

/**
 * Diagnostic codes (rules/LANGUAGE.md §5). A code names the kind of mistake so tools
 * and tests can match it without parsing the message.
 */
export const DIAGNOSTIC_CODES = {
  yaml: 'the file is not valid YAML',
  'unknown-field': 'a key the rule format does not have',
  'missing-field': 'a required key is missing',
  'bad-value': 'a value of the envelope is not one of the allowed ones',
  syntax: 'an expression does not parse',
  'unknown-column': 'a column the table does not have',
  'unknown-alias': 'a table alias that is not defined',
  'unknown-table': 'a table the feed catalogue does not have',
  'unknown-function': 'a function the language does not have',
  'unknown-parameter': 'a `$name` that is not declared under `params:`',
  'unused-parameter': 'a declared parameter no expression uses',
  'type-mismatch': 'a value of the wrong type',
  'not-enum-value': 'a text literal that is not a value of an enum column',
  'aggregate-misuse': 'an aggregate where rows are not grouped, or a missing one',
  'reads-mismatch': '`reads:` differs from the tables the logic uses',
  'duplicate-name': 'a name or alias defined twice',
  'dialect-unsupported': 'the target SQL engine lacks a construct the rule uses',
  'unused-let': 'a `let:` name nothing uses (warning)',
  rule: 'any other mistake in a rule',
} as const;
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** The code of a message written without one (every check names its mistake in words first). */
export function classify(reason: string): DiagnosticCode {
  const r = reason;
  if (r.startsWith('YAML:')) return 'yaml';
  if (/^unknown field/.test(r) || /looks like the rest of a value/.test(r)) return 'unknown-field';
  if (/ needs `\w+:`$|^missing `/.test(r)) return 'missing-field';
  if (/^unknown column|`requires`: unknown column|is ambiguous/.test(r)) return 'unknown-column';
  if (/^unknown table alias/.test(r)) return 'unknown-alias';
  if (/unknown table/.test(r)) return 'unknown-table';
  if (/^unknown function/.test(r)) return 'unknown-function';
  if (/unknown parameter/.test(r)) return 'unknown-parameter';
  if (/is declared but never used/.test(r)) return 'unused-parameter';
  if (/is not a value of this column/.test(r)) return 'not-enum-value';
  if (/aggregate|must aggregate/.test(r)) return 'aggregate-misuse';
  if (/`reads`|not listed in `reads:`/.test(r)) return 'reads-mismatch';
  if (/twice|is already used|is used on both sides/.test(r)) return 'duplicate-name';
  if (/is not available on/.test(r)) return 'dialect-unsupported';
  if (/^expected |^unexpected|ends too early|unterminated|is not a date \(write/.test(r)) return 'syntax';
  if (/ must be | expects | needs (numbers|a |a true)|cannot compare|cannot negate|mixes /.test(r)) return 'type-mismatch';
  if (/is not one of/.test(r)) return 'bad-value';
  return 'rule';
}

export class RuleError extends FiscusError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The message without the position prefix. */
  readonly reason: string;
  /** What kind of mistake (DIAGNOSTIC_CODES). */
  readonly diagnostic: DiagnosticCode;
  readonly severity: DiagnosticSeverity;

  constructor(pos: SourcePos, reason: string, code?: DiagnosticCode, severity: DiagnosticSeverity = 'error') {
    super(`${pos.file}:${pos.line}:${pos.column}: ${severity === 'warning' ? 'warning: ' : ''}${reason}`, { code: 'RULE_ERROR', exitCode: 1, httpStatus: 400 });
    this.name = 'RuleError';
    this.file = pos.file;
    this.line = pos.line;
    this.column = pos.column;
    this.reason = reason;
    this.diagnostic = code ?? classify(reason);
    this.severity = severity;
  }

  /** The did-you-mean suggestion of the message, if any. */
  get suggestion(): string | undefined {
    return /did you mean `([^`]+)`\?/.exec(this.reason)?.[1];
  }

  toJSON(): Diagnostic {
    return {
      code: this.diagnostic, severity: this.severity, message: this.reason, file: this.file, line: this.line, column: this.column,
      ...(this.suggestion ? { suggestion: this.suggestion } : {}),
    };
  }
}

/** One diagnostic as data (`fiscus rules check --json`, tools). */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: DiagnosticSeverity;
  message: string;
  file: string;
  line: number;
  column: number;
  suggestion?: string;
}

/** Several mistakes at once: all diagnostics of a file, or of every broken file of a folder. */
export class RuleErrors extends FiscusError {
  readonly errors: RuleError[];
  constructor(errors: RuleError[]) {
    super(errors.map((e) => e.message).join('\n'), { code: 'RULE_ERRORS', exitCode: 1, httpStatus: 400 });
    this.name = 'RuleErrors';
    this.errors = errors;
  }
}

/**
 * ` — did you mean `x`?` when a candidate is close enough, else '': the
 * suggestion of engine/did-you-mean.ts (the one matcher of the CLI, config and
 * API), in the rule files' code style that `RuleError.suggestion` reads back.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const best = closest(word, candidates);
  return best === undefined ? '' : ` — did you mean \`${best}\`?`;
}
