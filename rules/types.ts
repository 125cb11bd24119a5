/**
 * The contract between the rule language (rules/language: parse, check,
 * compile) and the rule runner (rules/run: evaluate, store flags, summarise).
 *
 * A compiled rule is one SQL query with named parameters. Whatever the logic
 * kind (filter, aggregate, window, comparison, deadline, statistics), the
 * query returns rows of the standard shape `RuleResultRow`: one row per
 * finding. The runner never looks inside the SQL.
 */

export type Severity = 'high' | 'medium' | 'low';

/** A parameter of emitted rule SQL, in binding order: `as_of`, `scope` or `p_<name>`, with its rule-parameter type. */
export interface BoundParameter {
  name: string;
  type: RuleParamDef['type'];
}
export type RuleStatus = 'experimental' | 'test' | 'stable';

export type EntityType =
  | 'agency' | 'budget_line' | 'payment' | 'payee' | 'region' | 'bond' | 'allocation'
  | 'debt_service' | 'transfer' | 'asset' | 'asset_change' | 'enterprise' | 'project';

export interface RuleParamDef {
  name: string;
  type: 'money' | 'number' | 'integer' | 'percent' | 'days' | 'string' | 'date' | 'boolean' | 'list';
  default: string | number | boolean | string[];
  description?: string;
}

export interface RuleMeta {
  id: string;
  version: number;
  status: RuleStatus;
  /** Default severity; a row may carry its own (e.g. debt.ratio medium/high). */
  severity: Severity;
  title: { zh: string; en: string };
  /** Templates with `{var}` placeholders filled from `RuleResultRow.vars` (and the standard columns). */
  titleTemplate: { zh: string; en: string };
  description: { zh?: string; en?: string };
  references: string[];
  params: RuleParamDef[];
  /** Feed tables the rule reads, e.g. ['treasury.payments', 'ref.agencies']. */
  reads: string[];
  entityType: EntityType;
  /** What a reader calls the measure (`measure.label`); flags carry its `name`, FLAGS.md's identifier. */
  measureLabel?: { zh: string; en: string };
  /** Where the rule came from: built-in pack file or an analyst's --rules-dir file. */
  source: { file: string; builtin: boolean };
}

/** A check run before the rule; when `ok` is false the rule is skipped and `reason` is reported. */
export interface Precondition {
  /** SQL returning one row with a boolean column `ok` (may use the same parameters as the rule). */
  sql: string;
  /** The parameters of `sql` in binding order (see `CompiledRule.parameters`). */
  parameters?: BoundParameter[];
  /** zh-CN/English text for the run summary, e.g. "treasury.payments 为空 / treasury.payments is empty". */
  reason: string;
  /**
   * The table this check finds empty or not, when that is all `sql` asks: the runner then
   * answers it from the run's table states (rules/run/fingerprint.ts) without a query.
   */
  nonEmpty?: string;
  /**
   * True when any finding of the rule implies this precondition (e.g. "some group reaches the
   * minimum size" for a statistical test). The runner may then check it only when the rule
   * found nothing, to tell "nothing found" from "could not be evaluated" — it can cost as
   * much as the rule itself. Gates such as "the indicators table is not empty" are never implied.
   */
  impliedByFindings?: boolean;
}

export interface CompiledRule {
  meta: RuleMeta;
  /**
   * SQL in `dialect` returning `RuleResultRow`s. Parameters: `as_of` (DATE, bound by
   * the runner), `scope` (text list or NULL) and one `p_<param>` per rule parameter
   * (bound from `params`). Values are never interpolated into the text. DuckDB uses
   * named `$name` placeholders, PostgreSQL positional `$1…`; `parameters` lists them
   * in binding order either way.
   */
  sql: string;
  /** The parameters of `sql` in binding order, with their types (compileRule always sets it). */
  parameters?: BoundParameter[];
  /** The engine the SQL is written for (`duckdb` | `postgres`; compileRule always sets it; absent = duckdb). */
  dialect?: string;
  /** Resolved parameter values (defaults merged with deployment overrides), keyed `p_<name>`. */
  params: Record<string, string | number | boolean | string[]>;
  preconditions: Precondition[];
  /**
   * For incremental re-runs: the column of the primary table that partitions
   * the findings (e.g. agency_code). When set, the SQL also accepts
   * `$scope` (VARCHAR[] or NULL = everything) and restricts evaluation to
   * those partition values.
   */
  scope?: { table: string; column: string };
  /**
   * Delta evaluation (rules/language/passes/delta.ts): the main SQL's `delta_key` column is
   * each finding's key (parts joined by U+001F); `sql` is the main SQL evaluated only over
   * rows whose key columns (`tables[t]`, one per part of `keys`) equal a tuple the new batches
   * `$delta_batches` touched (rules/language/emit/touched-keys.ts).
   */
  delta?: {
    keys: string[]; tables: Record<string, string[]>; sql: string; parameters?: BoundParameter[];
    /** A window rule's dates (passes/delta.ts): the delta SQL also takes `$delta_dates`, the first and last date the batches touched in `table`.`column`. */
    window?: { table: string; column: string; within: WindowLength };
  };
  /**
   * What each source of the logic reads, for the run summary: `sql` returns one row with
   * `rows` (the table's rows visible at `$as_of`) and, per `requires:` column, how many of
   * those rows miss it and so are not judged. The first entry is the rule's main input
   * (the flag-share warning compares flags with its `rows`).
   */
  inputs?: { table: string; requires: string[]; sql: string; parameters?: BoundParameter[] }[];
}

/**
 * One finding, as every compiled rule's SQL returns it. Column names are fixed.
 * Money and measures come back as decimal strings.
 */
export interface RuleResultRow {
  entity_type: EntityType;
  entity_id: string;
  entity_name: string | null;
  region_code: string | null;
  agency_code: string | null;
  fiscal_year: number | null;
  /** YYYY-MM-DD */
  period_start: string | null;
  period_end: string | null;
  /** null = the rule's default severity. */
  severity: Severity | null;
  measure_name: string;
  measure_value: string | null;
  threshold: string | null;
  amount: string | null;
  /** Primary keys of the rows that make the finding (composite keys joined with `|`). */
  evidence: { table: string; key: string }[];
  /** When the evidence rows are thousands: a SELECT that lists them. */
  evidence_query: string | null;
  /** Values for the title templates. */
  vars: Record<string, string | number | null>;
}

/** The columns, in order, that a compiled rule's SELECT must produce. */
/** A window's length in days: a literal, or the rule parameter that holds it. */
export type WindowLength = { days: number } | { param: string };

/** Separates the parts of a finding's `delta_key` (a control character no code or date contains); the runner joins touched keys with it too. */
export const DELTA_KEY_SEPARATOR = '\u001f';

/**
 * The key tuples a delta run re-evaluates: those the new batches `batches` touched in the delta
 * tables `tables` (each table's key columns, CompiledRule.delta.tables), `count` of them. They are
 * read from the batches where they are used (rules/language/emit/touched-keys.ts), never carried
 * as values: at 10M payments a 1% batch touches 100k (agency, payee account) tuples.
 */
export interface TouchedSet {
  readonly tables: Readonly<Record<string, readonly string[]>>;
  readonly batches: readonly string[];
  readonly count: number;
}

/** The delta evaluation's list parameters: `$delta_batches` (the new batches) and a window rule's `$delta_dates` (first and last touched date). */
export const isDeltaParam = (name: string): boolean => /^delta_(batches|dates)$/.test(name);

export const RESULT_COLUMNS = [
  'entity_type', 'entity_id', 'entity_name', 'region_code', 'agency_code', 'fiscal_year',
  'period_start', 'period_end', 'severity', 'measure_name', 'measure_value', 'threshold',
  'amount', 'evidence', 'evidence_query', 'vars',
] as const;
