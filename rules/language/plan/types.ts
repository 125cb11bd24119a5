/**
 * The checked form of a rule: a `RulePlan`, one variant per logic kind, whose
 * expressions are typed IR nodes (`IR`) carrying their source span. Checking
 * (rules/language/check) builds it from YAML and expression text; emitting
 * (rules/language/emit) turns it into SQL through a dialect. Nothing here is SQL:
 * a node says *what* (a column, a parameter, a call of `median`, a date plus days),
 * the dialect says how an engine writes it.
 *
 * Nodes are immutable once built (as kysely's operation nodes): passes over the plan
 * (prefilters, incremental scoping) read it and return new facts, they never edit it.
 */
import type { TableDef, ColumnDef } from '../../../engine/feeds.ts';
import type { EntityType, Severity, WindowLength } from '../../types.ts';
import type { SourcePos } from '../errors.ts';
import type { ParamType } from '../dialects/types.ts';
import type { LogicKind } from '../definition.ts';
import type { VType } from '../scope.ts';

/** What every expression node knows after checking. */
export interface NodeInfo {
  readonly type: VType;
  /** Contains an aggregate call. */
  readonly agg: boolean;
  /** file:line:col of the node's first character. */
  readonly span: SourcePos;
  /** Enum columns (and names bound to them): the allowed values. */
  readonly enumValues?: readonly string[];
  /** Stands for an expression that failed to check (its diagnostic is already recorded). */
  readonly poison?: boolean;
}

/** A relation a column is read from: a feed table under an alias, or a derived relation of the plan (`__g`, `w`). */
export interface RowRef {
  /** Name in the rule text (`p`, `prev`, `first`). */
  readonly alias: string;
  /** Name of the relation in the emitted SQL (`p`, `t0`, `__prev__`). */
  readonly rel: string;
  /** Quote `rel` as an identifier when emitting (source aliases are; generated names are not). */
  readonly quoted: boolean;
  readonly table: TableDef;
}

export type IR = NodeInfo &
  (
    | { readonly k: 'num'; readonly raw: string }
    | { readonly k: 'str'; readonly value: string }
    | { readonly k: 'date'; readonly value: string }
    | { readonly k: 'bool'; readonly value: boolean }
    | { readonly k: 'null' }
    /** A bound parameter: `as_of`, `scope` or `p_<name>`. */
    | { readonly k: 'param'; readonly name: string; readonly ptype: ParamType }
    /** A column of a feed table's row. */
    | { readonly k: 'col'; readonly row: RowRef; readonly col: ColumnDef }
    /** A named output of a derived relation of the plan (a group key, a compute, a window bound). */
    | { readonly k: 'slot'; readonly rel: string; readonly name: string; readonly quoted: boolean }
    /** A `let:` name: its body, parenthesised where used. */
    | { readonly k: 'let'; readonly name: string; readonly body: IR }
    | { readonly k: 'unary'; readonly op: '-' | 'not'; readonly arg: IR }
    /** and/or, comparisons (= <> < <= > >=), + - * %, `/` (safe division), `||` (text), `div` (plain float division). */
    | { readonly k: 'binary'; readonly op: string; readonly left: IR; readonly right: IR }
    | { readonly k: 'isnull'; readonly arg: IR; readonly negated: boolean }
    | { readonly k: 'between'; readonly arg: IR; readonly lo: IR; readonly hi: IR; readonly negated: boolean }
    | { readonly k: 'in'; readonly arg: IR; readonly items: readonly IR[]; readonly negated: boolean }
    /** `x in $list` */
    | { readonly k: 'inlist'; readonly arg: IR; readonly list: IR; readonly negated: boolean }
    /** A function of the language (FUNCTIONS) or an internal one (`add_days`, `add_workdays`, `workday_ord`, `nullif_zero`, `if`). */
    | { readonly k: 'call'; readonly fn: string; readonly args: readonly IR[]; readonly distinct: boolean; readonly filter?: IR }
    /** `exists(r in t where …)` / `sum(x for r in t where …)`: a correlated subquery. */
    | { readonly k: 'sub'; readonly mode: 'exists' | 'agg'; readonly row: RowRef; readonly where?: IR; readonly aggregate?: IR }
    /** `field(name)`: a value of the source row named by text. */
    | { readonly k: 'field'; readonly row: RowRef; readonly name: IR }
  );


/** A named expression (`group_by`, `compute`, `partition_by` entries). */
export interface Named {
  readonly name: string;
  readonly expr: IR;
  readonly span: SourcePos;
}

export interface LookupPlan {
  readonly alias: string;
  readonly rel: string;
  readonly table: TableDef;
  /** An aggregated lookup: the table grouped first, then joined. */
  readonly grouped?: { readonly groups: readonly Named[]; readonly computes: readonly Named[] };
  readonly on: IR;
  readonly inner: boolean;
}

/** `from` + `lookup` + `where` + `requires`: the rows a kind works on. */
export interface SourcePlan {
  readonly primary: RowRef;
  readonly lookups: readonly LookupPlan[];
  /** The `where:` condition (the as-of cut-off and scope are added when emitting). */
  readonly where?: IR;
  /** `requires:` columns (rows missing one are not judged). */
  readonly requires: readonly string[];
  /** Incremental scoping: the column of the primary table restricted to `$scope` (set by passes/scope). */
  readonly scopeColumn?: string;
  /** Delta evaluation: columns of the primary table restricted to the key tuples the new batches touched (set by passes/delta; emit/touched-keys.ts). */
  readonly deltaColumns?: readonly string[];
  /**
   * Delta evaluation when the key is the table's primary key: the rows of the touched keys are
   * exactly the rows of the new batches (a correction keeps its key), so the source keeps rows
   * whose `_batch_id` is in `$delta_batches` instead of probing every row against the key list
   * (3x faster at 1M payments).
   */
  readonly deltaByBatch?: boolean;
  /**
   * Delta evaluation of a window rule: only rows dated within two spans of the bound touched
   * dates (`$delta_dates`): the windows starting within one span of them, and the earlier
   * windows their maximality is judged against, see all their rows.
   */
  readonly deltaDates?: { readonly column: string; readonly within: IR };
}

/** A grouped side: the aggregate kind, each side of compare. */
export interface GroupedPlan {
  readonly source: SourcePlan;
  readonly groups: readonly Named[];
  readonly computes: readonly Named[];
}

export type AtDates = 'quarter_ends' | 'month_ends' | 'year_ends';

interface KindBase {
  /** The finding-level condition. */
  readonly having?: IR;
}

export interface MatchPlan extends KindBase {
  readonly kind: 'match';
  readonly source: SourcePlan;
}

export interface DeadlinePlan extends KindBase {
  readonly kind: 'deadline';
  readonly source: SourcePlan;
  readonly start: IR;
  readonly within: IR;
  readonly workdays: boolean;
  readonly due: IR;
  readonly end?: IR;
  readonly met?: IR;
}

export interface AggregatePlan extends KindBase {
  readonly kind: 'aggregate';
  readonly side: GroupedPlan;
  readonly at?: AtDates;
}

export interface ComparePlan extends KindBase {
  readonly kind: 'compare';
  readonly left: GroupedPlan;
  readonly right: GroupedPlan;
  readonly join: 'left' | 'inner' | 'full';
  readonly at?: AtDates;
}

export interface WindowPlan extends KindBase {
  readonly kind: 'window';
  readonly source: SourcePlan;
  readonly partitions: readonly Named[];
  readonly date: IR;
  readonly within: IR;
  readonly computes: readonly Named[];
  /** Delta evaluation: report only windows starting within one span of the bound touched dates. */
  readonly deltaStarts?: boolean;
}

export interface SequencePlan extends KindBase {
  readonly kind: 'sequence';
  readonly source: SourcePlan;
  readonly partitions: readonly Named[];
  readonly order: readonly Named[];
}

export interface ClusterPlan extends KindBase {
  readonly kind: 'cluster';
  readonly source: SourcePlan;
  readonly partitions: readonly Named[];
  readonly date: IR;
  readonly gap: IR;
  readonly order: readonly Named[];
  readonly computes: readonly Named[];
}

export interface BenfordPlan extends KindBase {
  readonly kind: 'benford';
  readonly source: SourcePlan;
  readonly groups: readonly Named[];
  readonly value: IR;
  readonly minCount: IR;
}

export interface RobustZPlan extends KindBase {
  readonly kind: 'robust_z';
  readonly source: SourcePlan;
  readonly groups: readonly Named[];
  readonly value: IR;
  readonly minSize: IR;
  readonly scale: IR;
}

export type LogicPlan =
  | MatchPlan | DeadlinePlan | AggregatePlan | ComparePlan | WindowPlan | SequencePlan | ClusterPlan | BenfordPlan | RobustZPlan;

export type EvidenceItem = { readonly auto: true } | { readonly table: string; readonly key: IR };

/** The envelope: what each finding says (FLAGS.md), as typed expressions over the finding scope. */
export interface EnvelopePlan {
  readonly entityType: EntityType;
  readonly entityId: IR;
  readonly entityName?: IR;
  readonly regionCode?: IR;
  readonly agencyCode?: IR;
  readonly fiscalYear?: IR;
  readonly period?: { readonly year: IR } | { readonly start: IR; readonly end: IR };
  readonly severityIf: readonly { readonly severity: Severity; readonly when: IR }[];
  readonly measureName: string;
  readonly measureValue?: IR;
  readonly threshold?: IR;
  readonly amount?: IR;
  /** Absent: the kind's automatic evidence. */
  readonly evidence?: readonly EvidenceItem[];
  /** Title placeholders, their values and (for `{x:4}`) the decimals a number is given with. */
  readonly vars: readonly (readonly [string, IR] | readonly [string, IR, number])[];
  /** Rule-level lookups joined to each finding. */
  readonly lookups: readonly { readonly alias: string; readonly rel: string; readonly table: TableDef; readonly on: IR }[];
}

/**
 * The rule's delta key (passes/delta): findings depend only on rows sharing their key values,
 * so a run after new batches re-evaluates only the keys the batches touched.
 */
export interface DeltaPlan {
  /** Each key part: its name and how a finding shows it (over the kind's finding scope). */
  readonly keys: readonly { readonly name: string; readonly finding: IR }[];
  /** Per table a source reads: the column of each key part. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
  /**
   * A window rule whose findings' period starts at the window's start: a changed row dated d
   * can change only the windows starting within `span` days of d (span = within − 1), so a
   * delta run also bounds the dates (passes/delta.ts). `column` is the window's date column on
   * the delta table; `within` its length in days, a literal or a rule parameter.
   */
  readonly window?: { readonly table: string; readonly column: string; readonly within: Readonly<WindowLength> };
}

export interface RulePlan {
  readonly id: string;
  readonly kind: LogicKind;
  readonly logic: LogicPlan;
  readonly envelope: EnvelopePlan;
  /** Every source of the logic, for the run summary's input counts (in check order). */
  readonly inputs: readonly { readonly table: TableDef; readonly requires: readonly string[] }[];
  /** Tables the rule uses; `required`: the logic depends on their rows (preconditions). */
  readonly tables: ReadonlyMap<string, { readonly required: boolean }>;
  /** `scope:` — the column that partitions findings for incremental runs. */
  readonly scope?: { readonly table: string; readonly column: string };
  /** The plan uses the working-day calendar. */
  readonly workdays: boolean;
  /** Set by passes/delta when findings can be re-evaluated key by key. */
  readonly delta?: DeltaPlan;
}
