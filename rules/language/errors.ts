/**
 * Errors in rule files. Every one points at a place in a file so an analyst
 * can jump to it: `file:line:col: message` (1-based).
 */
import { FiscusError } from '../../engine/errors.ts';

export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export class RuleError extends FiscusError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The message without the position prefix. */
  readonly reason: string;

  constructor(pos: SourcePos, reason: string) {
    super(`${pos.file}:${pos.line}:${pos.column}: ${reason}`, { code: 'RULE_ERROR', exitCode: 1, httpStatus: 400 });
    this.name = 'RuleError';
    this.file = pos.file;
    this.line = pos.line;
    this.column = pos.column;
    this.reason = reason;
  }
}

/** Several broken rule files at once (loadRulesDir reports all of them, not just the first). */
export class RuleErrors extends FiscusError {
  readonly errors: RuleError[];
  constructor(errors: RuleError[]) {
    super(errors.map((e) => e.message).join('\n'), { code: 'RULE_ERRORS', exitCode: 1, httpStatus: 400 });
    this.name = 'RuleErrors';
    this.errors = errors;
  }
}

/** Levenshtein distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** ` — did you mean `x`?` when a candidate is close enough, else ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return '';
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestD <= limit ? ` — did you mean \`${best}\`?` : '';
}
