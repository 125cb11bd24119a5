/**
 * Compile a rule definition to one SQL SELECT returning RESULT_COLUMNS.
 *
 * Pipeline: YAML nodes → expression AST (parser) → typed SQL fragments
 * (expr.ts, checked against the feed catalogue) → one query per logic kind
 * (CTEs) → the standard projection of the envelope (entity, period, measure…).
 */
import { feedTable, type ColumnType, type TableDef } from '../../engine/feeds.ts';
import { RESULT_COLUMNS, type CompiledRule, type Precondition, type RuleParamDef, type Severity } from '../types.ts';
import { parseExpr, type Expr, type ExprSource } from './ast.ts';
import { checkParamValue, type RuleDefinition } from './definition.ts';
import { dialectOf, type Dialect as SqlDialect, type DialectName } from './dialects/index.ts';
import { sqlParamType } from './dialects/types.ts';
import { RuleError, didYouMean } from './errors.ts';
import { ExprCompiler, type CompileCtx } from './expr.ts';
import { newScope, type Scope, type TableBinding, type Typed, type VType, isNumeric, describeType } from './scope.ts';
import { isMap, isScalar, isSeq, type Node, type YAMLMap, type YamlFile } from './yaml-doc.ts';

export interface CompileOptions {
  params?: Record<string, unknown>;
  severity?: Severity;
  /** The engine to emit SQL for (default duckdb). */
  dialect?: DialectName | SqlDialect;
}

/** Evidence lists longer than this are replaced by `evidence_query` (FLAGS.md: "where those are thousands"). */
export const EVIDENCE_LIMIT = 500;

/** The column that says when a row of a feed table became visible: nothing after the as-of date is seen. */
export const AS_OF_COLUMNS: Record<string, { column: string; kind: 'date' | 'year' | 'period' }> = {
  'treasury.payments': { column: 'pay_date', kind: 'date' },
  'treasury.budget_indicators': { column: 'approved_date', kind: 'date' },
  'debt.bonds': { column: 'issue_date', kind: 'date' },
  'debt.allocations': { column: 'allocation_date', kind: 'date' },
  'debt.spending': { column: 'pay_date', kind: 'date' },
  'debt.positions': { column: 'fiscal_year', kind: 'year' },
  'assets.cards': { column: 'acquired_date', kind: 'date' },
  'assets.changes': { column: 'change_date', kind: 'date' },
  'assets.soe_financials': { column: 'period', kind: 'period' },
  'transfers.grants': { column: 'issued_date', kind: 'date' },
  'transfers.disbursements': { column: 'pay_date', kind: 'date' },
};


interface Source {
  from: string;
  where: string[];
  scope: Scope;
  primary: TableBinding;
  /** SQL of the primary row's key (composite parts joined with `|`). */
  key: string;
}

interface Findings {
  ctes: string[];
  /** CTEs that depend on what the envelope referenced (built after it is compiled). */
  lateCtes?: () => string[];
  from: string;
  where: string[];
  scope: Scope;
  evidence: string;
  evidenceQuery: string;
  /** SQL checks (besides "tables non-empty") with reasons. */
  preconditions: { ctes: string[]; sql: string }[];
}

class RuleCompiler {
  readonly y: YamlFile;
  readonly ctx: CompileCtx;
  readonly d: SqlDialect;
  readonly root: YAMLMap;
  scopeColumn?: string;
  scopeTables: string[] = [];
  /** Each source's table and its `requires:` columns, for the run summary's input counts. */
  inputs: { table: TableDef; requires: string[] }[] = [];

  constructor(
    readonly def: RuleDefinition,
    params: Map<string, RuleParamDef>,
    dialect: SqlDialect,
  ) {
    this.y = def.yaml;
    this.d = dialect;
    this.root = this.y.root();
    this.ctx = {
      dialect,
      params,
      usedParams: new Set(),
      usedTables: new Map(),
      needsWorkdays: false,
      asOfFilter: (t, alias) => this.asOfFilter(t, alias),
      aliasCounter: 0,
    };
    const sc = this.y.get(this.root, 'scope');
    if (sc) this.scopeColumn = this.y.str(sc, '`scope`');
  }

  /** The evaluation date, a bound parameter. */
  get asOf(): string {
    return this.d.param('as_of', 'date');
  }

  asOfFilter(t: TableDef, alias: string): string | null {
    const a = AS_OF_COLUMNS[t.name];
    if (!a) return null;
    const col = `${alias}.${this.d.ident(a.column)}`;
    if (a.kind === 'date') return `${col} <= ${this.asOf}`;
    if (a.kind === 'year') return `${col} <= ${this.d.year(this.asOf)}`;
    return `${col} <= ${this.d.yearMonth(this.asOf)}`;
  }

  exprSrc(n: Node, what: string): ExprSource {
    return this.y.expr(n, what);
  }

  /** Compile an expression node in a scope, checking its type. */
  expr(n: Node, scope: Scope, what: string, want?: VType | 'numeric' | 'any'): Typed {
    const src = this.exprSrc(n, what);
    const ast = parseExpr(src);
    const c = new ExprCompiler(this.ctx, src);
    const t = c.compile(ast, scope);
    if (want && want !== 'any') {
      const ok = want === 'numeric' ? isNumeric(t.type) : t.type === want || t.type === 'null' || (want === 'number' && isNumeric(t.type));
      if (!ok) throw new RuleError(src.pos(ast.at), `${what} must be ${want === 'numeric' ? 'a number' : describeType(want)}, got ${describeType(t.type)}`);
    }
    if (t.agg && !scope.aggregates) throw new RuleError(src.pos(ast.at), `${what} cannot aggregate here`);
    return t;
  }

  tableRef(n: Node, what: string, required: boolean): { def: TableDef; alias: string } {
    const text = this.y.str(n, what).trim();
    const m = /^([A-Za-z_][\w]*\.[A-Za-z_][\w]*)(?:\s+(?:as\s+)?([A-Za-z_]\w*))?$/i.exec(text);
    if (!m) throw this.y.err(n, `${what}: write \`schema.table\` or \`schema.table as alias\`, e.g. \`treasury.payments as p\``);
    const src = this.exprSrc(n, what);
    const c = new ExprCompiler(this.ctx, src);
    const def = c.table(m[1], 0, required);
    return { def, alias: m[2] ?? def.table };
  }

  /** `from` + `lookup` + `where`: the rows a kind works on. */
  source(m: YAMLMap, what: string, extra: (s: Scope) => void = () => {}, allowed: string[] = []): Source {
    this.y.keys(m, ['from', 'lookup', 'where', 'requires', ...allowed], what);
    const { def, alias } = this.tableRef(this.y.required(m, 'from', what), '`from`', true);
    const scope = newScope(`in \`${what}\``, { primary: alias });
    const sqlAlias = this.d.ident(alias);
    const primary: TableBinding = { alias, def, sqlAlias };
    scope.tables.set(alias, primary);
    extra(scope);
    let from = `${this.d.table(def.schema, def.table)} AS ${sqlAlias}`;
    const where: string[] = [];
    const asOf = this.asOfFilter(def, sqlAlias);
    if (asOf) where.push(asOf);
    if (this.scopeColumn) {
      if (!def.columns.some((c) => c.name === this.scopeColumn)) {
        throw this.y.err(this.y.get(this.root, 'scope'), `\`scope: ${this.scopeColumn}\`: ${def.name} has no such column`);
      }
      this.scopeTables.push(def.name);
      where.push(this.d.inListParamOrAll('scope', `${sqlAlias}.${this.d.ident(this.scopeColumn)}`));
    }
    const lk = this.y.get(m, 'lookup');
    if (lk) {
      const lm = this.y.map(lk, '`lookup`');
      for (const item of lm.items) {
        const la = String((item.key as { value: unknown }).value);
        if (scope.tables.has(la)) throw this.y.err(item.key as Node, `alias \`${la}\` is used twice`);
        const spec = this.y.map(item.value as Node, `lookup \`${la}\``);
        this.y.keys(spec, ['table', 'on', 'required', 'group_by', 'compute'], `lookup \`${la}\``);
        const tn = this.y.required(spec, 'table', `lookup \`${la}\``);
        const t = this.tableRef(tn, '`table`', false);
        const lAlias = this.d.ident(la);
        let joined = `${this.d.table(t.def.schema, t.def.table)} AS ${lAlias}`;
        const conds: string[] = [];
        const gb = this.y.get(spec, 'group_by');
        if (gb) {
          // An aggregated lookup: the table grouped first, then joined (e.g. the budget of a line).
          const inner = newScope(`in lookup \`${la}\``, { primary: la });
          inner.tables.set(la, { alias: la, def: t.def, sqlAlias: lAlias });
          this.globals(inner);
          const groups = this.namedExprs(gb, '`group_by`', inner);
          const cn = this.y.get(spec, 'compute');
          const computes = cn ? this.namedExprs(cn, '`compute`', { ...inner, aggregates: true, where: 'in `compute`' }) : [];
          const asOf = this.asOfFilter(t.def, lAlias);
          const cols = [...groups, ...computes].map((x) => `${x.t.sql} AS ${this.d.ident(x.name)}`);
          joined = `(SELECT ${cols.join(', ')} FROM ${joined}${asOf ? ` WHERE ${asOf}` : ''} GROUP BY ${groups.map((g) => g.t.sql).join(', ')}) AS ${lAlias}`;
          const columns = [...groups, ...computes].map((x) => ({ name: x.name, type: columnTypeOf(x.t.type), nullable: true, label: x.name, ...(x.t.enumValues ? { values: x.t.enumValues } : {}) }));
          scope.tables.set(la, { alias: la, def: { ...t.def, name: t.def.name, columns, key: groups.map((g) => g.name) }, sqlAlias: lAlias });
        } else {
          scope.tables.set(la, { alias: la, def: t.def, sqlAlias: lAlias });
          const lAsOf = this.asOfFilter(t.def, lAlias);
          if (lAsOf) conds.push(lAsOf);
        }
        const on = this.expr(this.y.required(spec, 'on', `lookup \`${la}\``), scope, '`on`', 'boolean');
        conds.unshift(on.sql);
        const reqNode = this.y.get(spec, 'required');
        const inner = reqNode ? this.y.str(reqNode, '`required`') === 'true' : false;
        if (inner) this.ctx.usedTables.get(t.def.name)!.required = true;
        from += ` ${inner ? 'JOIN' : 'LEFT JOIN'} ${joined} ON ${conds.join(' AND ')}`;
      }
    }
    where.push(...this.requires(m, def, sqlAlias));
    const keyParts = def.key.map((k) => this.d.cast(`${sqlAlias}.${this.d.ident(k)}`, 'string'));
    const key = keyParts.length === 1 ? keyParts[0] : keyParts.join(` || '|' || `);
    return { from, where, scope, primary, key };
  }

  /**
   * `requires: [fiscal_capacity]`: rows of the source table missing one of these (nullable)
   * columns are not judged; the runner counts them for the run summary.
   */
  requires(m: YAMLMap, def: TableDef, sqlAlias: string): string[] {
    const n = this.y.get(m, 'requires');
    const cols: string[] = [];
    if (n && !(isScalar(n) && n.value === null)) {
      for (const { value, node } of this.y.strList(n, 'a column name')) {
        const c = def.columns.find((x) => x.name === value);
        if (!c) throw this.y.err(node, `\`requires\`: unknown column \`${value}\` in ${def.name}${didYouMean(value, def.columns.map((x) => x.name))}`);
        if (!c.nullable) throw this.y.err(node, `\`requires\`: ${def.name}.${value} is never missing (it is required by the feed contract); list only optional columns`);
        if (cols.includes(value)) throw this.y.err(node, `\`requires\`: \`${value}\` is listed twice`);
        cols.push(value);
      }
    }
    this.inputs.push({ table: def, requires: cols });
    return cols.map((c) => `${sqlAlias}.${this.d.ident(c)} IS NOT NULL`);
  }

  /**
   * One row: the source table's rows visible at the as-of date (`rows`), how many of them miss
   * a `requires:` column (`not_judged`) and, per column, how many miss it (`missing_<column>`).
   */
  inputCountsSql(input: { table: TableDef; requires: string[] }): string {
    const t = input.table;
    const a = '__in';
    const asOf = this.asOfFilter(t, a);
    const missing = input.requires.map((c) => `${a}.${this.d.ident(c)} IS NULL`);
    const cols = [
      'count(*) AS "rows"',
      ...(missing.length ? [`count(*) FILTER (WHERE ${missing.join(' OR ')}) AS "not_judged"`] : []),
      ...input.requires.map((c, i) => `count(*) FILTER (WHERE ${missing[i]}) AS ${this.d.ident(`missing_${c}`)}`),
    ];
    return `SELECT ${cols.join(', ')} FROM ${this.d.table(t.schema, t.table)} AS ${a}${asOf ? ` WHERE ${asOf}` : ''}`;
  }

  sourceWhere(m: YAMLMap, src: Source, scope: Scope = src.scope): void {
    const w = this.y.get(m, 'where');
    if (w) src.where.push(this.expr(w, scope, '`where`', 'boolean').sql);
  }

  /** `group_by: [a, b]` or `group_by: {name: expr}` → named expressions. */
  namedExprs(n: Node, what: string, scope: Scope): { name: string; t: Typed; node: Node }[] {
    const out: { name: string; t: Typed; node: Node }[] = [];
    if (isSeq(n) || isScalar(n)) {
      for (const { value, node } of this.y.strList(n, what)) {
        const t = this.expr(node, scope, what, 'any');
        const name = /^[A-Za-z_]\w*$/.test(value) ? value : /^\w+\.(\w+)$/.exec(value)?.[1];
        if (!name) throw this.y.err(node, `${what}: give computed values a name (\`name: expression\`)`);
        out.push({ name, t, node });
      }
      return out;
    }
    const m = this.y.map(n, what);
    for (const item of m.items) {
      const name = String((item.key as { value: unknown }).value);
      if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw this.y.err(item.key as Node, `name \`${name}\` must be letters, digits and _`);
      out.push({ name, t: this.expr(item.value as Node, scope, `\`${name}\``, 'any'), node: item.value as Node });
    }
    return out;
  }

  /** Add the rule-level `let:` names to a finding scope (expanded where used). */
  lets(scope: Scope): void {
    const n = this.y.get(this.root, 'let');
    if (!n) return;
    const m = this.y.map(n, '`let`');
    for (const item of m.items) {
      const name = String((item.key as { value: unknown }).value);
      const src = this.exprSrc(item.value as Node, `\`${name}\``);
      scope.names.set(name, { kind: 'let', expr: parseExpr(src), src, scope });
    }
  }

  globals(scope: Scope): void {
    scope.names.set('as_of', { kind: 'sql', sql: this.asOf, type: 'date' });
  }

  /** Evaluation dates (`at: quarter_ends`): a CTE of dates ≤ as-of, from the first year in the table. */
  atDates(n: Node, table: TableDef): string {
    const v = this.y.str(n, '`at`');
    const months: Record<string, string> = { quarter_ends: '(3),(6),(9),(12)', month_ends: '(1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12)', year_ends: '(12)' };
    if (!months[v]) throw this.y.err(n, `\`at: ${v}\` is not one of ${Object.keys(months).join(', ')}${didYouMean(v, Object.keys(months))}`);
    const a = AS_OF_COLUMNS[table.name];
    if (!a || a.kind !== 'date') throw this.y.err(n, `\`at:\` needs a dated table (${table.name} has no date column)`);
    const col = this.d.ident(a.column);
    const d = this.d;
    const end = d.lastDayOfMonth(d.makeDate('y.range', 'm.m', '1'));
    return `fiscus_at AS (SELECT CAST(${end} AS DATE) AS at
      FROM ${d.integerRange(`coalesce((SELECT ${d.year(`min(${col})`)} FROM ${d.table(table.schema, table.table)} WHERE ${col} <= ${this.asOf}), ${d.year(this.asOf)})`, `${d.year(this.asOf)} + 1`, 'y')},
      (VALUES ${months[v]}) m(m)
      WHERE ${end} <= ${this.asOf})`;
  }

  evidenceFromKeys(table: string, keys: string): string {
    return this.d.evidence(table, keys);
  }

  // ---- logic kinds -------------------------------------------------------

  match(m: YAMLMap): Findings {
    const src = this.source(m, '`match`');
    this.globals(src.scope);
    this.lets(src.scope);
    this.sourceWhere(m, src);
    return {
      ctes: [], from: src.from, where: src.where, scope: src.scope,
      evidence: this.evidenceFromKeys(src.primary.def.name, this.d.listOf([src.key])), evidenceQuery: 'NULL', preconditions: [],
    };
  }

  deadline(m: YAMLMap): Findings {
    const src = this.source(m, '`deadline`', () => {}, ['start', 'within', 'end', 'met']);
    const s = src.scope;
    this.globals(s);
    this.lets(s);
    const start = this.expr(this.y.required(m, 'start', '`deadline`'), s, '`start`', 'date');
    const withinNode = this.y.required(m, 'within', '`deadline`');
    const within = this.expr(withinNode, s, '`within`', 'any');
    if (within.type !== 'days' && within.type !== 'workdays') {
      throw this.y.err(withinNode, '`within` is a number of days or working days, e.g. `30 days` or `$limit workdays`');
    }
    const work = within.type === 'workdays';
    if (work) this.ctx.needsWorkdays = true;
    const due = work
      ? `(SELECT min(w2.day) FROM fiscus_workdays w2 WHERE w2.is_workday AND w2.ord = (SELECT w.ord FROM fiscus_workdays w WHERE w.day = ${start.sql}) + ${within.sql})`
      : this.d.addDays(start.sql, within.sql);
    s.names.set('due', { kind: 'sql', sql: due, type: 'date' });
    s.names.set('limit', { kind: 'sql', sql: `(${within.sql})`, type: 'integer' });
    s.names.set('start', { kind: 'sql', sql: start.sql, type: 'date' });
    this.sourceWhere(m, src);
    const endNode = this.y.get(m, 'end');
    const metNode = this.y.get(m, 'met');
    if ((endNode ? 1 : 0) + (metNode ? 1 : 0) !== 1) {
      throw this.y.err(m, '`deadline` needs either `end:` (the date the thing was done, null while not done) or `met:` (a condition judged at the deadline)');
    }
    if (endNode) {
      const end = this.expr(endNode, s, '`end`', 'date');
      const elapsed = work
        ? `((SELECT w.ord FROM fiscus_workdays w WHERE w.day = ${end.sql}) - (SELECT w.ord FROM fiscus_workdays w WHERE w.day = ${start.sql}))`
        : this.d.daysBetween(start.sql, end.sql);
      s.names.set('end', { kind: 'sql', sql: end.sql, type: 'date' });
      s.names.set('elapsed', { kind: 'sql', sql: elapsed, type: 'integer' });
      src.where.push(`((${end.sql} > ${due}) OR (${end.sql} IS NULL AND ${due} < ${this.asOf}))`);
    } else {
      const met = this.expr(metNode!, s, '`met`', 'boolean');
      src.where.push(`(${due} <= ${this.asOf} AND NOT coalesce(${met.sql}, FALSE))`);
    }
    return {
      ctes: [], from: src.from, where: src.where, scope: s,
      evidence: this.evidenceFromKeys(src.primary.def.name, this.d.listOf([src.key])), evidenceQuery: 'NULL', preconditions: [],
    };
  }

  /** A grouped side (aggregate kind and each side of compare). */
  grouped(m: YAMLMap, what: string, cteName: string, opts: { at?: boolean; extraAllowed?: string[] } = {}) {
    const src = this.source(m, what, (s) => {
      if (opts.at) s.names.set('at', { kind: 'sql', sql: 'fiscus_at.at', type: 'date' });
      this.globals(s);
    }, ['group_by', 'compute', ...(opts.extraAllowed ?? [])]);
    this.sourceWhere(m, src);
    const groups = this.namedExprs(this.y.required(m, 'group_by', what), '`group_by`', src.scope);
    for (const g of groups) if (g.t.agg) throw this.y.err(g.node, '`group_by` cannot aggregate');
    const aggScope: Scope = { ...src.scope, aggregates: true, where: `in \`compute\`` };
    const cn = this.y.get(m, 'compute');
    const computes = cn ? this.namedExprs(cn, '`compute`', aggScope) : [];
    const seen = new Set<string>();
    for (const x of [...groups, ...computes]) {
      if (seen.has(x.name)) throw this.y.err(x.node, `name \`${x.name}\` is defined twice`);
      seen.add(x.name);
    }
    const cols = [
      ...(opts.at ? ['fiscus_at.at AS "at"'] : []),
      ...groups.map((g) => `${g.t.sql} AS ${this.d.ident(g.name)}`),
      ...computes.map((c) => `${c.t.sql} AS ${this.d.ident(c.name)}`),
      'count(*) AS __n',
    ];
    const groupBy = [...(opts.at ? ['fiscus_at.at'] : []), ...groups.map((g) => g.t.sql)];
    const from = opts.at ? `fiscus_at CROSS JOIN ${src.from}` : src.from;
    const cte = `${cteName} AS (SELECT ${cols.join(', ')} FROM ${from}${src.where.length ? ` WHERE ${src.where.join(' AND ')}` : ''} GROUP BY ${groupBy.join(', ')})`;
    // evidence query: the primary rows of this group, by the group keys that are plain columns
    const plain = groups.filter((g) => g.t.column && g.t.column.alias === src.primary.alias);
    // Evidence keys are listed for the findings only (a correlated subquery over the same rows),
    // not for every group: listing keys of every group costs more than the rule itself.
    const keyExprs = [...(opts.at ? [{ sql: 'fiscus_at.at', name: 'at' }] : []), ...groups.map((g) => ({ sql: g.t.sql, name: g.name }))];
    const evidenceKeys = (ref: string) =>
      `(SELECT ${this.d.keyList(src.key)} FROM ${from} WHERE ${[
        ...src.where,
        ...keyExprs.map((k) => `${k.sql} IS NOT DISTINCT FROM ${ref}.${this.d.ident(k.name)}`),
      ].join(' AND ')})`;
    return { cte, groups, computes, src, plain, evidenceKeys };
  }

  /**
   * A SELECT listing the primary rows of a group (FLAGS.md: when the evidence is thousands of
   * rows): the group keys that are plain columns, and the as-of cut-off of the table.
   */
  evidenceQuery(table: TableDef, plain: { name: string; t: Typed }[], ref: string): string {
    const parts = plain.map((g) => `'${g.t.column!.col.name} = ' || ${this.quoteSql(`${ref}.${this.d.ident(g.name)}`, g.t.type)}`);
    const a = AS_OF_COLUMNS[table.name];
    if (a) {
      const asOf = this.asOf;
      const v = a.kind === 'date' ? `'DATE ''' || CAST(${asOf} AS VARCHAR) || ''''` : a.kind === 'year' ? `CAST(${this.d.year(asOf)} AS VARCHAR)` : `'''' || ${this.d.yearMonth(asOf)} || ''''`;
      parts.push(`'${a.column} <= ' || ${v}`);
    }
    const base = `'SELECT * FROM ${table.name}${parts.length ? ' WHERE ' : ''}'`;
    return parts.length ? `${base} || ${parts.join(` || ' AND ' || `)}` : base;
  }

  quoteSql(sql: string, t: VType): string {
    if (t === 'integer' || t === 'money' || t === 'number') return `CAST(${sql} AS VARCHAR)`;
    if (t === 'date') return `'DATE ''' || CAST(${sql} AS VARCHAR) || ''''`;
    return `'''' || replace(CAST(${sql} AS VARCHAR), '''', '''''') || ''''`;
  }

  groupFindings(side: ReturnType<RuleCompiler['grouped']>, ref: string, scope: Scope, at: boolean): void {
    if (at) scope.names.set('at', { kind: 'sql', sql: `${ref}."at"`, type: 'date' });
    for (const g of side.groups) scope.names.set(g.name, { kind: 'sql', sql: `${ref}.${this.d.ident(g.name)}`, type: g.t.type, enumValues: g.t.enumValues });
    for (const c of side.computes) scope.names.set(c.name, { kind: 'sql', sql: `${ref}.${this.d.ident(c.name)}`, type: c.t.type, enumValues: c.t.enumValues });
  }

  limitedEvidence(table: string, n: string, keys: string, query: string): { evidence: string; evidenceQuery: string } {
    return {
      evidence: `CASE WHEN ${n} <= ${EVIDENCE_LIMIT} THEN ${this.evidenceFromKeys(table, keys)} ELSE ${this.d.emptyEvidence()} END`,
      evidenceQuery: `CASE WHEN ${n} > ${EVIDENCE_LIMIT} THEN ${query} END`,
    };
  }

  aggregate(m: YAMLMap): Findings {
    const atNode = this.y.get(m, 'at');
    const side = this.grouped(m, '`aggregate`', 'fiscus_g', { at: !!atNode, extraAllowed: ['having', 'at'] });
    const ctes: string[] = [];
    if (atNode) ctes.push(this.atDates(atNode, side.src.primary.def));
    ctes.push(side.cte);
    const scope = newScope('in `having`');
    this.globals(scope);
    this.groupFindings(side, '__g', scope, !!atNode);
    this.lets(scope);
    const where: string[] = [];
    const h = this.y.get(m, 'having');
    if (h) where.push(this.expr(h, scope, '`having`', 'boolean').sql);
    const ev = this.limitedEvidence(side.src.primary.def.name, '__g.__n', side.evidenceKeys('__g'), this.evidenceQuery(side.src.primary.def, side.plain, '__g'));
    return { ctes, from: 'fiscus_g AS __g', where, scope, ...ev, preconditions: [] };
  }

  compare(m: YAMLMap): Findings {
    this.y.keys(m, ['left', 'right', 'join', 'having', 'at'], '`compare`');
    const atNode = this.y.get(m, 'at');
    const l = this.grouped(this.y.map(this.y.required(m, 'left', '`compare`'), '`left`'), '`left`', 'fiscus_l', { at: !!atNode });
    const r = this.grouped(this.y.map(this.y.required(m, 'right', '`compare`'), '`right`'), '`right`', 'fiscus_r', { at: !!atNode });
    const joinNode = this.y.get(m, 'join');
    const join = joinNode ? this.y.str(joinNode, '`join`') : 'left';
    if (!['left', 'inner', 'full'].includes(join)) throw this.y.err(joinNode, '`join` is one of left (every left group, right may be missing), inner (both present), full (either)');
    const ln = l.groups.map((g) => g.name);
    const rn = r.groups.map((g) => g.name);
    if (ln.join() !== rn.join()) {
      throw this.y.err(this.y.get(this.y.map(this.y.get(m, 'right')!, '`right`'), 'group_by'), `\`right.group_by\` must name the same keys as \`left.group_by\` (${ln.join(', ')}), in the same order; they are what the two sides are matched on`);
    }
    for (const c of r.computes) {
      if (l.computes.some((x) => x.name === c.name) || ln.includes(c.name)) throw this.y.err(c.node, `name \`${c.name}\` is used on both sides`);
    }
    const ctes: string[] = [];
    if (atNode) ctes.push(this.atDates(atNode, l.src.primary.def));
    ctes.push(l.cte, r.cte);
    const keys = [...(atNode ? ['at'] : []), ...ln];
    const on = keys.map((k) => `__l.${this.d.ident(k)} IS NOT DISTINCT FROM __r.${this.d.ident(k)}`).join(' AND ');
    const scope = newScope('in `having`');
    this.globals(scope);
    const keyRef = (k: string) => (join === 'full' ? `coalesce(__l.${this.d.ident(k)}, __r.${this.d.ident(k)})` : `__l.${this.d.ident(k)}`);
    if (atNode) scope.names.set('at', { kind: 'sql', sql: keyRef('at'), type: 'date' });
    for (const g of l.groups) scope.names.set(g.name, { kind: 'sql', sql: keyRef(g.name), type: g.t.type, enumValues: g.t.enumValues });
    for (const c of l.computes) scope.names.set(c.name, { kind: 'sql', sql: `__l.${this.d.ident(c.name)}`, type: c.t.type });
    for (const c of r.computes) scope.names.set(c.name, { kind: 'sql', sql: `__r.${this.d.ident(c.name)}`, type: c.t.type });
    scope.names.set('left_found', { kind: 'sql', sql: '(__l.__n IS NOT NULL)', type: 'boolean' });
    scope.names.set('right_found', { kind: 'sql', sql: '(__r.__n IS NOT NULL)', type: 'boolean' });
    this.lets(scope);
    const where: string[] = [];
    const h = this.y.get(m, 'having');
    if (h) where.push(this.expr(h, scope, '`having`', 'boolean').sql);
    const keysSql = `(coalesce(__l.__n, 0) + coalesce(__r.__n, 0))`;
    const ev = `CASE WHEN ${keysSql} <= ${EVIDENCE_LIMIT} THEN ${this.d.evidenceConcat([
      `coalesce(${this.evidenceFromKeys(l.src.primary.def.name, l.evidenceKeys('__l'))}, ${this.d.emptyEvidence()})`,
      `coalesce(${this.evidenceFromKeys(r.src.primary.def.name, r.evidenceKeys('__r'))}, ${this.d.emptyEvidence()})`,
    ])} ELSE ${this.d.emptyEvidence()} END`;
    const q = `CASE WHEN ${keysSql} > ${EVIDENCE_LIMIT} THEN ${this.evidenceQuery(r.src.primary.def, r.plain.map((g) => ({ ...g })), join === 'full' ? '__r' : '__l')} END`;
    if (join === 'full') this.needs(joinNode, 'full_join_nullable_keys', '`join: full`');
    const jsql = join === 'left' ? 'LEFT JOIN' : join === 'inner' ? 'JOIN' : 'FULL JOIN';
    return { ctes, from: `fiscus_l AS __l ${jsql} fiscus_r AS __r ON ${on}`, where, scope, evidence: ev, evidenceQuery: q, preconditions: [] };
  }

  /**
   * Sliding windows per partition, as a range join rather than window frames:
   * every distinct start date joins the rows of its partition dated within the
   * span, so computes are plain aggregates and evidence is exact. Only maximal
   * windows are reported (a finding contained in an earlier finding's span is
   * dropped; with monotone conditions such as count ≥ n and sum ≥ x a superset
   * of a finding is a finding).
   */
  window(m: YAMLMap): Findings {
    const src = this.source(m, '`window`', (s) => this.globals(s), ['partition_by', 'date', 'within', 'compute', 'having']);
    this.sourceWhere(m, src);
    const s = src.scope;
    const parts = this.namedExprs(this.y.required(m, 'partition_by', '`window`'), '`partition_by`', s);
    const date = this.expr(this.y.required(m, 'date', '`window`'), s, '`date`', 'date');
    const withinNode = this.y.required(m, 'within', '`window`');
    const within = this.expr(withinNode, s, '`within`', 'any');
    if (within.type !== 'days') throw this.y.err(withinNode, '`within` is a number of calendar days, e.g. `7 days` (first and last date at most 6 days apart)');
    if (within.agg) throw this.y.err(withinNode, '`within` cannot aggregate');
    // Computes read the columns they need from the row CTE.
    const used = new Map<string, string>();
    this.ctx.columnRewrite = (alias, direct, col) => {
      const name = `__c_${alias}_${col}`;
      used.set(name, direct);
      return `q.${this.d.ident(name)}`;
    };
    const aggScope: Scope = { ...s, aggregates: true, where: 'in `compute`' };
    const cn = this.y.get(m, 'compute');
    let computes: { name: string; t: Typed; node: Node }[];
    try {
      computes = cn ? this.namedExprs(cn, '`compute`', aggScope) : [];
    } finally {
      this.ctx.columnRewrite = undefined;
    }
    const pk = parts.map((p) => this.d.ident(p.name));
    const span = `(CAST(${within.sql} AS INTEGER) - 1)`;
    const ctes = [
      this.d.materialized('fiscus_wq', `SELECT ${[
        ...parts.map((p) => `${p.t.sql} AS ${this.d.ident(p.name)}`),
        `${date.sql} AS __d`,
        `${src.key} AS __key`,
        ...[...used].map(([n, direct]) => `${direct} AS ${this.d.ident(n)}`),
      ].join(', ')} FROM ${src.from}${src.where.length ? ` WHERE ${src.where.join(' AND ')}` : ''}`),
      ...(() => {
        // A window's rows are a subset of its partition's: a count (or a sum of values the
        // source keeps non-negative) that must reach a threshold must reach it over the whole
        // partition too. Partitions that cannot are skipped before the range join.
        const conds = this.monotonePrefilter(m, computes, s);
        if (conds.length === 0) return [`fiscus_ws AS (SELECT DISTINCT ${pk.join(', ')}, __d FROM fiscus_wq)`];
        return [
          `fiscus_wp AS (SELECT ${pk.join(', ')} FROM fiscus_wq AS q GROUP BY ${pk.join(', ')} HAVING ${conds.join(' AND ')})`,
          `fiscus_ws AS (SELECT DISTINCT ${pk.map((k) => `q.${k}`).join(', ')}, q.__d FROM fiscus_wq AS q ${this.d.semiJoin} fiscus_wp AS wp ON ${pk.map((k) => `q.${k} = wp.${k}`).join(' AND ')})`,
        ];
      })(),
      `fiscus_w AS (SELECT ${[
        ...pk.map((k) => `st.${k} AS ${k}`),
        'st.__d AS __start',
        'max(q.__d) AS __end',
        ...computes.map((c) => `${c.t.sql} AS ${this.d.ident(c.name)}`),
        'count(*) AS __n',
      ].join(', ')}
        FROM fiscus_ws st JOIN fiscus_wq q ON ${pk.map((k) => `q.${k} = st.${k}`).join(' AND ')} AND q.__d BETWEEN st.__d AND st.__d + ${span}
        GROUP BY ${[...pk.map((k) => `st.${k}`), 'st.__d'].join(', ')})`,
    ];
    const scope = newScope('in `having`');
    this.globals(scope);
    for (const p of parts) scope.names.set(p.name, { kind: 'sql', sql: `w.${this.d.ident(p.name)}`, type: p.t.type, enumValues: p.t.enumValues });
    for (const c of computes) scope.names.set(c.name, { kind: 'sql', sql: `w.${this.d.ident(c.name)}`, type: c.t.type });
    scope.names.set('window_start', { kind: 'sql', sql: 'w.__start', type: 'date' });
    scope.names.set('window_end', { kind: 'sql', sql: 'w.__end', type: 'date' });
    this.lets(scope);
    const h = this.y.get(m, 'having');
    const having = h ? this.expr(h, scope, '`having`', 'boolean').sql : 'TRUE';
    ctes.push(this.d.materialized('fiscus_wf', `SELECT * FROM fiscus_w AS w WHERE ${having}`));
    // Maximal windows only: drop one whose rows all lie in an earlier finding's span.
    const where = [`NOT EXISTS (SELECT 1 FROM fiscus_wf AS w2 WHERE ${pk.map((k) => `w2.${k} = w.${k}`).join(' AND ')} AND w2.__start < w.__start AND w2.__start + ${span} >= w.__end)`];
    return {
      ctes, from: 'fiscus_wf AS w', where, scope,
      evidence: this.evidenceFromKeys(src.primary.def.name,
        `(SELECT ${this.d.keyList('q2.__key')} FROM fiscus_wq AS q2 WHERE ${pk.map((k) => `q2.${k} = w.${k}`).join(' AND ')} AND q2.__d BETWEEN w.__start AND w.__end)`),
      evidenceQuery: 'NULL', preconditions: [],
    };
  }

  /**
   * Rule-level `lookup:`: reference rows joined to each finding (after grouping), e.g. the
   * agency's name for an agency-year aggregate. Cheaper than grouping by the name.
   */
  findingLookups(f: Findings): void {
    const lk = this.y.get(this.root, 'lookup');
    if (!lk) return;
    const lm = this.y.map(lk, '`lookup`');
    for (const item of lm.items) {
      const la = String((item.key as { value: unknown }).value);
      if (f.scope.tables.has(la) || f.scope.names.has(la)) throw this.y.err(item.key as Node, `alias \`${la}\` is already used`);
      const spec = this.y.map(item.value as Node, `lookup \`${la}\``);
      this.y.keys(spec, ['table', 'on'], `lookup \`${la}\``);
      const t = this.tableRef(this.y.required(spec, 'table', `lookup \`${la}\``), '`table`', false);
      const lAlias = this.d.ident(la);
      f.scope.tables.set(la, { alias: la, def: t.def, sqlAlias: lAlias });
      const on = this.expr(this.y.required(spec, 'on', `lookup \`${la}\``), f.scope, '`on`', 'boolean');
      const asOf = this.asOfFilter(t.def, lAlias);
      f.from += ` LEFT JOIN ${this.d.table(t.def.schema, t.def.table)} AS ${lAlias} ON ${[on.sql, ...(asOf ? [asOf] : [])].join(' AND ')}`;
    }
  }

  /** `having` conjuncts `name >= rhs` on count() / sum(non-negative column), as partition-level SQL. */
  monotonePrefilter(m: YAMLMap, computes: { name: string; t: Typed; node: Node }[], rowScope: Scope, opts: { countOnly?: boolean } = {}): string[] {
    const h = this.y.get(m, 'having');
    if (!h) return [];
    const conj = (e: Expr): Expr[] => (e.kind === 'binary' && e.op === 'and' ? [...conj(e.left), ...conj(e.right)] : [e]);
    const colName = (e: Expr): string | undefined => (e.kind === 'ident' ? e.parts[e.parts.length - 1] : undefined);
    const nonNegative = new Set<string>();
    const w = this.y.get(m, 'where');
    if (w) {
      for (const c of conj(parseExpr(this.exprSrc(w, '`where`')))) {
        if (c.kind === 'binary' && (c.op === '>' || c.op === '>=') && c.right.kind === 'num' && Number(c.right.raw) >= 0) {
          const n = colName(c.left);
          if (n) nonNegative.add(n);
        }
      }
    }
    const out: string[] = [];
    const hs = this.exprSrc(h, '`having`');
    for (const c of conj(parseExpr(hs))) {
      if (c.kind !== 'binary' || (c.op !== '>' && c.op !== '>=') || c.left.kind !== 'ident' || c.left.parts.length !== 1) continue;
      const comp = computes.find((x) => x.name === (c.left as { parts: string[] }).parts[0]);
      if (!comp) continue;
      const ast = parseExpr(this.exprSrc(comp.node, '`compute`'));
      if (ast.kind !== 'call' || ast.filter || ast.sub || ast.distinct) continue;
      const ok = (ast.name === 'count' && ast.args.length === 0) || (!opts.countOnly && ast.name === 'sum' && ast.args.length === 1 && nonNegative.has(colName(ast.args[0]) ?? ''));
      if (!ok) continue;
      // The threshold may only use parameters and literals.
      const bare = newScope('in `having`');
      this.globals(bare);
      let rhs: Typed;
      try {
        rhs = new ExprCompiler(this.ctx, hs).compile(c.right, bare);
      } catch {
        continue;
      }
      void rowScope;
      out.push(`(${comp.t.sql} ${c.op} ${rhs.sql})`);
    }
    return out;
  }

  /**
   * Consecutive rows: each row of a partition with the row before it (`prev.column`),
   * ordered by `order_by`. Compiles to LAG window functions over the filtered rows.
   */
  sequence(m: YAMLMap): Findings {
    const src = this.source(m, '`sequence`', (s) => this.globals(s), ['partition_by', 'order_by', 'having']);
    const baseWhere = [...src.where];
    this.sourceWhere(m, src);
    const s = src.scope;
    const parts = this.namedExprs(this.y.required(m, 'partition_by', '`sequence`'), '`partition_by`', s);
    const order = this.namedExprs(this.y.required(m, 'order_by', '`sequence`'), '`order_by`', s);
    const prevCols = new Map<string, string>();
    const primary = src.primary;
    s.tables.set('prev', { alias: 'prev', def: primary.def, sqlAlias: '__prev__' });
    this.ctx.columnRewrite = (alias, direct, col) => {
      if (alias !== 'prev') return direct;
      const name = `__prev_${col}`;
      prevCols.set(name, `${primary.sqlAlias}.${this.d.ident(col)}`);
      return `sq.${this.d.ident(name)}`;
    };
    this.lets(s);
    const where: string[] = [];
    const h = this.y.get(m, 'having');
    if (h) where.push(this.expr(h, s, '`having`', 'boolean').sql);
    const win = `(PARTITION BY ${parts.map((p) => p.t.sql).join(', ')} ORDER BY ${order.map((o) => o.t.sql).join(', ')})`;
    // `prev.x is not null` needs a partition of at least two rows: find those partitions first
    // (cheap grouping) so the row filter (often a correlated `exists`) only runs on candidates.
    const hn = h ? parseExpr(this.exprSrc(h, '`having`')) : undefined;
    const conj = (e: Expr): Expr[] => (e.kind === 'binary' && e.op === 'and' ? [...conj(e.left), ...conj(e.right)] : [e]);
    const needsPrev = hn ? conj(hn).some((c) => c.kind === 'isnull' && c.negated && c.arg.kind === 'ident' && c.arg.parts[0] === 'prev') : false;
    const pcols = parts.map((p, i) => ({ sql: p.t.sql, name: `__pk${i}` }));
    const lateCtes = () => [
      ...(needsPrev
        ? [this.d.materialized('fiscus_seqp', `SELECT ${pcols.map((c) => `${c.sql} AS ${c.name}`).join(', ')} FROM ${src.from}${baseWhere.length ? ` WHERE ${baseWhere.join(' AND ')}` : ''}
            GROUP BY ${pcols.map((c) => c.sql).join(', ')} HAVING count(*) >= 2`)]
        : []),
      `fiscus_seq AS (SELECT ${[`${src.key} AS __key`, ...[...prevCols].map(([n, c]) => `lag(${c}) OVER ${win} AS ${this.d.ident(n)}`)].join(', ')}
        FROM ${src.from}${needsPrev ? ` ${this.d.semiJoin} fiscus_seqp AS sp ON ${pcols.map((c) => `sp.${c.name} = ${c.sql}`).join(' AND ')}` : ''}${src.where.length ? ` WHERE ${src.where.join(' AND ')}` : ''})`,
    ];
    return {
      ctes: [], lateCtes, from: `${src.from} JOIN fiscus_seq AS sq ON sq.__key = ${src.key}`, where, scope: s,
      evidence: this.evidenceFromKeys(primary.def.name, this.d.listOf([src.key])), evidenceQuery: 'NULL', preconditions: [],
    };
  }

  /**
   * Clusters per partition: the rows of a partition in date order, cut wherever two
   * consecutive rows are more than `gap` days apart (gaps and islands). One finding per
   * cluster; `compute` aggregates its rows, `first.<column>` / `last.<column>` are its
   * first and last row (by date, then `order_by`, then the key), and the evidence is
   * every row of the cluster. Window functions only: no self-join, no recursion.
   */
  cluster(m: YAMLMap): Findings {
    const src = this.source(m, '`cluster`', (s) => this.globals(s), ['partition_by', 'date', 'gap', 'order_by', 'compute', 'having']);
    const baseWhere = [...src.where];
    this.sourceWhere(m, src);
    const s = src.scope;
    const primary = src.primary;
    const parts = this.namedExprs(this.y.required(m, 'partition_by', '`cluster`'), '`partition_by`', s);
    for (const p of parts) if (p.t.agg) throw this.y.err(p.node, '`partition_by` cannot aggregate');
    const date = this.expr(this.y.required(m, 'date', '`cluster`'), s, '`date`', 'date');
    const gapNode = this.y.required(m, 'gap', '`cluster`');
    const gap = this.expr(gapNode, s, '`gap`', 'any');
    if (gap.type !== 'days' || gap.agg) {
      throw this.y.err(gapNode, '`gap` is a number of calendar days, e.g. `30 days`: consecutive rows at most that far apart belong to one cluster');
    }
    const obNode = this.y.get(m, 'order_by');
    const order = obNode ? this.namedExprs(obNode, '`order_by`', s) : [];
    const aggScope: Scope = { ...s, aggregates: true, where: 'in `compute`' };
    const cn = this.y.get(m, 'compute');
    const computes = cn ? this.namedExprs(cn, '`compute`', aggScope) : [];
    const reserved = new Set(['cluster_start', 'cluster_end', 'first', 'last', ...parts.map((p) => p.name)]);
    for (const c of computes) {
      if (!c.t.agg) throw this.y.err(c.node, `\`${c.name}\` must aggregate the cluster's rows (e.g. count(), sum(amount), max(payee_name))`);
      if (reserved.has(c.name)) throw this.y.err(c.node, `name \`${c.name}\` is already used (partition keys, cluster_start, cluster_end, first, last)`);
    }
    const pk = parts.map((_, i) => `__pk${i}`);
    const ok = order.map((_, i) => `__o${i}`);
    const ord = ['__d', ...ok, '__key'];
    const win = `PARTITION BY ${pk.join(', ')} ORDER BY ${ord.join(', ')}`;
    // A cluster's rows are a subset of its partition's: `count() >= k` must hold for the whole
    // partition before the row filter (often a correlated `exists`) is worth running.
    const conds = this.monotonePrefilter(m, computes, s, { countOnly: true });
    const ctes: string[] = [];
    let rowsFrom = src.from;
    if (conds.length) {
      ctes.push(this.d.materialized('fiscus_cp', `SELECT ${parts.map((p, i) => `${p.t.sql} AS ${pk[i]}`).join(', ')} FROM ${src.from}${baseWhere.length ? ` WHERE ${baseWhere.join(' AND ')}` : ''}
        GROUP BY ${parts.map((p) => p.t.sql).join(', ')} HAVING ${conds.join(' AND ')}`));
      rowsFrom = `${src.from} ${this.d.semiJoin} fiscus_cp AS cp ON ${parts.map((p, i) => `cp.${pk[i]} = ${p.t.sql}`).join(' AND ')}`;
    }
    ctes.push(
      this.d.materialized('fiscus_cr', `SELECT ${[
        `${src.key} AS __key`,
        ...parts.map((p, i) => `${p.t.sql} AS ${pk[i]}`),
        `${date.sql} AS __d`,
        ...order.map((o, i) => `${o.t.sql} AS ${ok[i]}`),
      ].join(', ')} FROM ${rowsFrom}${src.where.length ? ` WHERE ${src.where.join(' AND ')}` : ''}`),
      `fiscus_cn AS (SELECT *, CASE WHEN lag(__d) OVER (${win}) IS NULL OR __d - lag(__d) OVER (${win}) > CAST(${gap.sql} AS INTEGER) THEN 1 ELSE 0 END AS __new FROM fiscus_cr)`,
      `fiscus_cl AS (SELECT *, sum(__new) OVER (${win} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __cid FROM fiscus_cn)`,
    );
    // The finding scope: partition keys, computes, the cluster's dates, its first and last row.
    const scope = newScope('in `having`');
    this.globals(scope);
    for (const [i, p] of parts.entries()) scope.names.set(p.name, { kind: 'sql', sql: `c.${pk[i]}`, type: p.t.type, enumValues: p.t.enumValues });
    for (const c of computes) scope.names.set(c.name, { kind: 'sql', sql: `c.${this.d.ident(c.name)}`, type: c.t.type, enumValues: c.t.enumValues });
    scope.names.set('cluster_start', { kind: 'sql', sql: 'c.__start', type: 'date' });
    scope.names.set('cluster_end', { kind: 'sql', sql: 'c.__end', type: 'date' });
    scope.tables.set('first', { alias: 'first', def: primary.def, sqlAlias: '__first__' });
    scope.tables.set('last', { alias: 'last', def: primary.def, sqlAlias: '__last__' });
    const ends = new Map<string, string>();
    const rowOrder = ['cl.__d', ...ok.map((o) => `cl.${o}`), 'cl.__key'];
    this.ctx.columnRewrite = (alias, direct, col) => {
      if (alias !== 'first' && alias !== 'last') return direct;
      const name = `__${alias}_${col}`;
      const c = `${primary.sqlAlias}.${this.d.ident(col)}`;
      ends.set(name, alias === 'first' ? this.d.firstOf(c, rowOrder) : this.d.lastOf(c, rowOrder));
      return `c.${this.d.ident(name)}`;
    };
    this.lets(scope);
    const where: string[] = [];
    const h = this.y.get(m, 'having');
    if (h) where.push(this.expr(h, scope, '`having`', 'boolean').sql);
    const lateCtes = () => [
      `fiscus_c AS (SELECT ${[
        ...pk.map((k) => `cl.${k} AS ${k}`),
        'cl.__cid AS __cid',
        'min(cl.__d) AS __start',
        'max(cl.__d) AS __end',
        'count(*) AS __n',
        `${this.d.orderedList('cl.__key', rowOrder)} AS __keys`,
        ...computes.map((c) => `${c.t.sql} AS ${this.d.ident(c.name)}`),
        ...[...ends].map(([n, sql]) => `${sql} AS ${this.d.ident(n)}`),
      ].join(', ')}
        FROM ${src.from} JOIN fiscus_cl AS cl ON cl.__key = ${src.key}
        GROUP BY ${[...pk.map((k) => `cl.${k}`), 'cl.__cid'].join(', ')})`,
    ];
    // More than EVIDENCE_LIMIT rows: a query listing the partition's rows in the cluster's dates.
    const plain = parts.map((p, i) => ({ p, i })).filter(({ p }) => p.t.column && p.t.column.alias === primary.alias);
    const q = [
      ...plain.map(({ p, i }) => `'${p.t.column!.col.name} = ' || ${this.quoteSql(`c.${pk[i]}`, p.t.type)}`),
      ...(date.column && date.column.alias === primary.alias
        ? [`'${date.column.col.name} BETWEEN ' || ${this.quoteSql('c.__start', 'date')} || ' AND ' || ${this.quoteSql('c.__end', 'date')}`]
        : []),
    ];
    const query = `'SELECT * FROM ${primary.def.name}${q.length ? ' WHERE ' : ''}'${q.length ? ` || ${q.join(` || ' AND ' || `)}` : ''}`;
    const ev = this.limitedEvidence(primary.def.name, 'c.__n', 'c.__keys', query);
    return { ctes, lateCtes, from: 'fiscus_c AS c', where, scope, ...ev, preconditions: [] };
  }

  benford(m: YAMLMap): Findings {
    const src = this.source(m, '`benford`', (s) => this.globals(s), ['group_by', 'value', 'min_count', 'having']);
    this.sourceWhere(m, src);
    const s = src.scope;
    const groups = this.namedExprs(this.y.required(m, 'group_by', '`benford`'), '`group_by`', s);
    const value = this.expr(this.y.required(m, 'value', '`benford`'), s, '`value`', 'numeric');
    const minCount = this.expr(this.y.required(m, 'min_count', '`benford`'), s, '`min_count`', 'integer');
    const g = groups.map((x) => this.d.ident(x.name));
    const ctes = [
      `fiscus_bd AS (SELECT ${groups.map((x) => `${x.t.sql} AS ${this.d.ident(x.name)}`).join(', ')}, ${this.d.firstDigit(value.sql)} AS __digit, count(*) AS __c
        FROM ${src.from} WHERE ${[...src.where, `${this.d.firstDigit(value.sql)} IS NOT NULL`].join(' AND ')}
        GROUP BY ${[...groups.map((x) => x.t.sql), this.d.firstDigit(value.sql)].join(', ')})`,
      `fiscus_bn AS (SELECT ${g.join(', ')}, sum(__c) AS __n FROM fiscus_bd GROUP BY ${g.join(', ')} HAVING sum(__c) >= ${minCount.sql})`,
      `fiscus_bm AS (SELECT ${g.map((x) => `n.${x}`).join(', ')}, n.__n,
        sum(abs(coalesce(d.__c, 0) / ${this.d.cast('n.__n', 'number')} - log10(1 + 1 / ${this.d.cast('dg.digit', 'number')}))) / 9 AS __mad
        FROM fiscus_bn n CROSS JOIN (SELECT range AS digit FROM ${this.d.integerRange('1', '10', '__r')}) dg
        LEFT JOIN fiscus_bd d ON ${g.map((x) => `d.${x} IS NOT DISTINCT FROM n.${x}`).join(' AND ')} AND d.__digit = dg.digit
        GROUP BY ${g.map((x) => `n.${x}`).join(', ')}, n.__n)`,
    ];
    const scope = newScope('in `having`');
    this.globals(scope);
    for (const x of groups) scope.names.set(x.name, { kind: 'sql', sql: `__b.${this.d.ident(x.name)}`, type: x.t.type, enumValues: x.t.enumValues });
    scope.names.set('n', { kind: 'sql', sql: '__b.__n', type: 'integer' });
    scope.names.set('mad', { kind: 'sql', sql: '__b.__mad', type: 'number' });
    this.lets(scope);
    const where: string[] = [];
    const h = this.y.get(m, 'having');
    if (h) where.push(this.expr(h, scope, '`having`', 'boolean').sql);
    const plain = groups.filter((x) => x.t.column && x.t.column.alias === src.primary.alias);
    const keys = `(SELECT ${this.d.keyList(src.key)} FROM ${src.from} WHERE ${[
      ...src.where,
      `${this.d.firstDigit(value.sql)} IS NOT NULL`,
      ...groups.map((x) => `${x.t.sql} IS NOT DISTINCT FROM __b.${this.d.ident(x.name)}`),
    ].join(' AND ')})`;
    const ev = this.limitedEvidence(src.primary.def.name, '__b.__n', keys, this.evidenceQuery(src.primary.def, plain, '__b'));
    return {
      ctes, from: 'fiscus_bm AS __b', where, scope, ...ev,
      preconditions: [{ ctes: ctes.slice(0, 2), sql: 'SELECT EXISTS (SELECT 1 FROM fiscus_bn) AS ok' }],
    };
  }

  robustZ(m: YAMLMap): Findings {
    const src = this.source(m, '`robust_z`', (s) => this.globals(s), ['peer_group', 'value', 'min_size', 'scale', 'having']);
    this.sourceWhere(m, src);
    const s = src.scope;
    const groups = this.namedExprs(this.y.required(m, 'peer_group', '`robust_z`'), '`peer_group`', s);
    const value = this.expr(this.y.required(m, 'value', '`robust_z`'), s, '`value`', 'numeric');
    const minSize = this.expr(this.y.required(m, 'min_size', '`robust_z`'), s, '`min_size`', 'integer');
    const scaleNode = this.y.get(m, 'scale');
    const scale = scaleNode ? this.expr(scaleNode, s, '`scale`', 'numeric').sql : '1.4826';
    const g = groups.map((x) => this.d.ident(x.name));
    const v = this.d.cast(value.sql, 'number');
    const ctes = [
      `fiscus_zv AS (SELECT ${groups.map((x) => `${x.t.sql} AS ${this.d.ident(x.name)}`).join(', ')}, ${v} AS __v
        FROM ${src.from} WHERE ${[...src.where, `${v} IS NOT NULL`].join(' AND ')})`,
      `fiscus_zm AS (SELECT ${g.join(', ')}, ${this.d.median('__v')} AS __med, count(*) AS __n FROM fiscus_zv GROUP BY ${g.join(', ')} HAVING count(*) >= ${minSize.sql})`,
      `fiscus_zs AS (SELECT ${g.map((x) => `m.${x}`).join(', ')}, m.__med, m.__n, ${this.d.median('abs(v.__v - m.__med)')} AS __mad
        FROM fiscus_zv v JOIN fiscus_zm m ON ${g.map((x) => `v.${x} IS NOT DISTINCT FROM m.${x}`).join(' AND ')}
        GROUP BY ${g.map((x) => `m.${x}`).join(', ')}, m.__med, m.__n)`,
    ];
    s.names.set('z', { kind: 'sql', sql: `((${v} - zs.__med) / NULLIF(${scale} * zs.__mad, 0))`, type: 'number' });
    s.names.set('peer_median', { kind: 'sql', sql: 'zs.__med', type: 'number' });
    s.names.set('peer_mad', { kind: 'sql', sql: 'zs.__mad', type: 'number' });
    s.names.set('peer_n', { kind: 'sql', sql: 'zs.__n', type: 'integer' });
    this.lets(s);
    const from = `${src.from} JOIN fiscus_zs AS zs ON ${groups.map((x) => `zs.${this.d.ident(x.name)} IS NOT DISTINCT FROM ${x.t.sql}`).join(' AND ')}`;
    const where = [...src.where];
    const h = this.y.get(m, 'having');
    if (h) where.push(this.expr(h, s, '`having`', 'boolean').sql);
    return {
      ctes, from, where, scope: s,
      evidence: this.evidenceFromKeys(src.primary.def.name, this.d.listOf([src.key])), evidenceQuery: 'NULL',
      preconditions: [{ ctes: ctes.slice(0, 2), sql: 'SELECT EXISTS (SELECT 1 FROM fiscus_zm) AS ok' }],
    };
  }

  // ---- envelope ----------------------------------------------------------

  optExpr(key: string, scope: Scope, want: VType | 'any', map: YAMLMap = this.root): Typed | undefined {
    const n = this.y.get(map, key);
    if (n === undefined || (isScalar(n) && n.value === null)) return undefined;
    return this.expr(n, scope, `\`${key}\``, want);
  }

  envelope(f: Findings): { select: string[] } {
    const s = f.scope;
    const d = this.d;
    const entity = this.y.map(this.y.get(this.root, 'entity')!, '`entity`');
    const id = this.expr(this.y.required(entity, 'id', '`entity`'), s, '`entity.id`', 'any');
    const name = this.optExpr('name', s, 'any', entity);
    const region = this.optExpr('region_code', s, 'string');
    const agency = this.optExpr('agency_code', s, 'string');
    const fy = this.optExpr('fiscal_year', s, 'integer');
    let ps = 'NULL';
    let pe = 'NULL';
    const pn = this.y.get(this.root, 'period');
    if (pn && !(isScalar(pn) && pn.value === null)) {
      const pm = this.y.map(pn, '`period`');
      this.y.keys(pm, ['start', 'end', 'year'], '`period`');
      const yr = this.optExpr('year', s, 'integer', pm);
      if (yr) {
        ps = d.makeDate(yr.sql, '1', '1');
        pe = d.makeDate(yr.sql, '12', '31');
      } else {
        ps = this.expr(this.y.required(pm, 'start', '`period`'), s, '`period.start`', 'date').sql;
        pe = this.expr(this.y.required(pm, 'end', '`period`'), s, '`period.end`', 'date').sql;
      }
    }
    let severity = 'CAST(NULL AS VARCHAR)';
    const si = this.y.get(this.root, 'severity_if');
    if (si) {
      const sm = this.y.map(si, '`severity_if`');
      this.y.keys(sm, ['high', 'medium', 'low'], '`severity_if`');
      const whens = sm.items.map((item) => {
        const sev = String((item.key as { value: unknown }).value);
        const c = this.expr(item.value as Node, s, `\`severity_if.${sev}\``, 'boolean');
        return `WHEN ${c.sql} THEN '${sev}'`;
      });
      severity = `CASE ${whens.join(' ')} END`;
    }
    const meas = this.y.map(this.y.required(this.root, 'measure', 'a rule'), '`measure`');
    this.y.keys(meas, ['name', 'value', 'threshold'], '`measure`');
    const mName = this.y.str(this.y.required(meas, 'name', '`measure`'), '`measure.name`');
    const mv = this.optExpr('value', s, 'any', meas);
    const mt = this.optExpr('threshold', s, 'any', meas);
    for (const [t, k] of [[mv, 'value'], [mt, 'threshold']] as const) {
      if (t && !isNumeric(t.type)) throw this.y.err(this.y.get(meas, k), `\`measure.${k}\` must be a number, got ${describeType(t.type)}`);
    }
    const amount = this.optExpr('amount', s, 'any');
    if (amount && !isNumeric(amount.type)) throw this.y.err(this.y.get(this.root, 'amount'), `\`amount\` must be money, got ${describeType(amount.type)}`);
    const str = (t: Typed | undefined) => (t ? `CAST(${t.sql} AS VARCHAR)` : 'CAST(NULL AS VARCHAR)');
    const dec = (t: Typed | undefined) => (t ? d.decimalString(t.sql, t.type === 'null' ? 'number' : (t.type as 'money')) : 'CAST(NULL AS VARCHAR)');
    const vars = this.templateVars(s);
    const cols: Record<(typeof RESULT_COLUMNS)[number], string> = {
      entity_type: `'${this.def.meta.entityType}'`,
      entity_id: str(id),
      entity_name: str(name),
      region_code: str(region),
      agency_code: str(agency),
      fiscal_year: fy ? `CAST(${fy.sql} AS INTEGER)` : 'CAST(NULL AS INTEGER)',
      period_start: `CAST(${ps} AS DATE)`,
      period_end: `CAST(${pe} AS DATE)`,
      severity,
      measure_name: d.stringLiteral(mName),
      measure_value: dec(mv),
      threshold: dec(mt),
      amount: amount ? `CAST(${amount.sql} AS ${d.typeName('money')})` : `CAST(NULL AS ${d.typeName('money')})`,
      evidence: d.evidenceColumn(this.evidenceOverride(f)),
      evidence_query: `CAST(${f.evidenceQuery} AS VARCHAR)`,
      vars: d.jsonObject(vars),
    };
    return { select: RESULT_COLUMNS.map((c) => `${cols[c]} AS ${d.ident(c)}`) };
  }

  /** `evidence:` list of `{table, key}` (and `auto` for the kind's own evidence) replaces the automatic evidence. */
  evidenceOverride(f: Findings): string {
    const n = this.y.get(this.root, 'evidence');
    if (!n || (isScalar(n) && n.value === 'auto')) return f.evidence;
    if (!isSeq(n)) throw this.y.err(n, '`evidence` is `auto` or a list of `{table: schema.table, key: expression}` (and `auto`)');
    const parts: string[] = [];
    for (const item of n.items as Node[]) {
      if (isScalar(item) && item.value === 'auto') {
        parts.push(f.evidence);
        continue;
      }
      const m = this.y.map(item, 'an evidence entry');
      this.y.keys(m, ['table', 'key'], 'an evidence entry');
      const tn = this.y.required(m, 'table', 'an evidence entry');
      const t = this.y.str(tn, '`table`');
      if (!feedTable(t)) throw this.y.err(tn, `unknown table \`${t}\``);
      const k = this.expr(this.y.required(m, 'key', 'an evidence entry'), f.scope, '`key`', 'any');
      parts.push(this.d.evidenceOne(t, this.d.cast(k.sql, 'string')));
    }
    return this.d.evidenceConcat(parts);
  }

  /** `{name}` placeholders in the titles must be names of the rule (checked, with positions). */
  templateVars(s: Scope): [string, string][] {
    const titleNode = this.y.map(this.y.get(this.root, 'title')!, '`title`');
    const out = new Map<string, string>();
    for (const lang of ['zh', 'en']) {
      const n = this.y.get(titleNode, lang)!;
      const src = this.exprSrc(n, `\`title.${lang}\``);
      for (const m of src.text.matchAll(/\{([^{}]*)\}/g)) {
        // `{total}` or `{total:money}` (the runner's format hints: money, int, text)
        const v = m[1].trim().replace(/:(money|int|text)$/, '');
        if (out.has(v)) continue;
        // Standard columns are filled by the runner; a rule name of the same name wins.
        if ((RESULT_COLUMNS as readonly string[]).includes(v) && !this.hasName(s, v)) continue;
        const exprSrc: ExprSource = { text: v, pos: (off) => src.pos(m.index! + 1 + off) };
        if (!/^[A-Za-z_]\w*(\.\w+)?$/.test(v)) throw new RuleError(exprSrc.pos(0), `title placeholder {${v}} must be a name defined in the rule`);
        const t = new ExprCompiler(this.ctx, exprSrc).compile(parseExpr(exprSrc), s);
        out.set(v, this.varSql(t));
      }
    }
    return [...out.entries()];
  }

  hasName(s: Scope, name: string): boolean {
    for (let x: Scope | undefined = s; x; x = x.parent) if (x.names.has(name)) return true;
    return false;
  }

  varSql(t: Typed): string {
    const x = t.sql;
    switch (t.type) {
      case 'money':
        // A decimal string (612000.00); the runner's template groups the digits exactly.
        return `CAST(CAST(${x} AS DECIMAL(18,2)) AS VARCHAR)`;
      case 'integer':
        return `CAST(${x} AS BIGINT)`;
      case 'number':
        return this.d.roundedText(x, 2);
      default:
        return `CAST(${x} AS VARCHAR)`;
    }
  }

  compile(): { sql: string; preconditions: { ctes: string[]; sql: string }[] } {
    const logic = this.y.map(this.y.get(this.root, this.def.kind)!, `\`${this.def.kind}\``);
    let f: Findings;
    switch (this.def.kind) {
      case 'match':
        f = this.match(logic);
        break;
      case 'aggregate':
        f = this.aggregate(logic);
        break;
      case 'window':
        f = this.window(logic);
        break;
      case 'compare':
        f = this.compare(logic);
        break;
      case 'deadline':
        f = this.deadline(logic);
        break;
      case 'benford':
        f = this.benford(logic);
        break;
      case 'robust_z':
        f = this.robustZ(logic);
        break;
      case 'sequence':
        f = this.sequence(logic);
        break;
      case 'cluster':
        f = this.cluster(logic);
        break;
    }
    this.findingLookups(f);
    const { select } = this.envelope(f);
    this.ctx.columnRewrite = undefined;
    const ctes = [...(this.ctx.needsWorkdays ? [this.d.workdayCte()] : []), ...f.ctes, ...(f.lateCtes?.() ?? [])];
    const sql = `${ctes.length ? `WITH ${ctes.join(',\n')}\n` : ''}SELECT ${select.join(',\n  ')}\nFROM ${f.from}${f.where.length ? `\nWHERE ${f.where.join('\n  AND ')}` : ''}`;
    const pre = f.preconditions.map((p) => ({ ctes: [...(this.ctx.needsWorkdays ? [this.d.workdayCte()] : []), ...p.ctes], sql: p.sql }));
    return { sql, preconditions: pre };
  }

  /** A construct the target engine may lack: refused when the rule is checked, naming rule and construct. */
  needs(node: Node | null | undefined, construct: keyof SqlDialect['unsupported'], what: string): void {
    const why = this.d.unsupported[construct];
    if (why) throw this.y.err(node, `rule ${this.def.meta.id}: ${what} is not available on ${this.d.name}: ${why}`);
  }

  /** `reads:` must list exactly the tables the logic uses. */
  checkReads(): void {
    const readsNode = this.y.get(this.root, 'reads')!;
    const reads = this.y.strList(readsNode, 'a table name');
    for (const r of reads) {
      if (!feedTable(r.value)) throw this.y.err(r.node, `\`reads\`: unknown table \`${r.value}\`${didYouMean(r.value, [...this.ctx.usedTables.keys()])}`);
      if (!this.ctx.usedTables.has(r.value)) throw this.y.err(r.node, `\`reads\` lists ${r.value} but the rule does not use it`);
    }
    for (const [t, pos] of this.ctx.usedTables) {
      if (!reads.some((r) => r.value === t)) throw new RuleError(pos, `${t} is used but not listed in \`reads:\``);
    }
  }

  checkUnusedParams(): void {
    for (const [name, node] of this.def.paramNodes) {
      if (!this.ctx.usedParams.has(name)) throw this.y.err(node, `parameter \`${name}\` is declared but never used`);
    }
  }
}

/** Resolve parameter values: defaults merged with overrides, each checked against its type. */
export function resolveParams(def: RuleDefinition, overrides: Record<string, unknown> = {}): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  const declared = new Map(def.meta.params.map((p) => [p.name, p]));
  for (const k of Object.keys(overrides)) {
    const name = k.startsWith('p_') && !declared.has(k) ? k.slice(2) : k;
    if (!declared.has(name)) {
      throw new RuleError({ file: def.file, line: 1, column: 1 }, `rule ${def.meta.id}: unknown parameter \`${name}\`${didYouMean(name, declared.keys())}; parameters: ${[...declared.keys()].join(', ') || 'none'}`);
    }
  }
  for (const p of def.meta.params) {
    const has = Object.prototype.hasOwnProperty.call(overrides, p.name) || Object.prototype.hasOwnProperty.call(overrides, `p_${p.name}`);
    const raw = Object.prototype.hasOwnProperty.call(overrides, p.name) ? overrides[p.name] : overrides[`p_${p.name}`];
    const v = has ? checkParamValue(p.type, raw) : p.default;
    if (typeof v === 'string' && v.startsWith('!')) {
      const n = def.paramNodes.get(p.name);
      const pos = n ? def.yaml.nodePos(n) : { file: def.file, line: 1, column: 1 };
      throw new RuleError(pos, `rule ${def.meta.id}: parameter \`${p.name}\` (${p.type}): ${v.slice(1)}`);
    }
    out[`p_${p.name}`] = v;
  }
  return out;
}

function columnTypeOf(t: VType): ColumnType {
  switch (t) {
    case 'money':
      return 'money';
    case 'integer':
      return 'year';
    case 'number':
      return 'rate';
    case 'date':
      return 'date';
    case 'boolean':
      return 'bool';
    default:
      return 'text';
  }
}

export function compileRule(def: RuleDefinition, opts: CompileOptions = {}): CompiledRule {
  const params = resolveParams(def, opts.params);
  const dialect = dialectOf(opts.dialect);
  const ptypes = new Map<string, RuleParamDef['type']>(def.meta.params.map((p) => [`p_${p.name}`, p.type]));
  const typeOf = (name: string): RuleParamDef['type'] => (name === 'as_of' ? 'date' : name === 'scope' ? 'list' : ptypes.get(name) ?? 'string');
  const emit = (text: string) => dialect.finalize(text, typeOf);
  const pmap = new Map(def.meta.params.map((p) => [p.name, p]));
  const rc = new RuleCompiler(def, pmap, dialect);
  const compiled = rc.compile();
  const statPre = compiled.preconditions;
  const main = emit(compiled.sql);
  rc.checkReads();
  rc.checkUnusedParams();
  const meta = { ...def.meta, severity: opts.severity ?? def.meta.severity };
  const preconditions: Precondition[] = [];
  for (const [t, u] of rc.ctx.usedTables) {
    // Feed tables must have data; reference tables only when the logic depends on their rows
    // (from, exists/aggregate subqueries, required lookups), not when they only supply names.
    if (!u.required && t.startsWith('ref.')) continue;
    const td = feedTable(t)!;
    preconditions.push({
      sql: `SELECT EXISTS (SELECT 1 FROM ${dialect.table(td.schema, td.table)}) AS ok`,
      reason: `${t} 为空 / ${t} is empty`,
    });
  }
  for (const p of statPre) {
    // A statistical finding needs a group of the minimum size, so findings imply this check.
    preconditions.push({ sql: `WITH ${p.ctes.join(',\n')}\n${p.sql}`, reason: skipReason(def, params), impliedByFindings: true });
  }
  const out: CompiledRule = {
    meta, sql: main.sql, parameters: main.parameters, dialect: dialect.name, params,
    preconditions: preconditions.map((p) => {
      const e = emit(p.sql);
      return { ...p, sql: e.sql, parameters: e.parameters };
    }),
    inputs: rc.inputs.map((i) => {
      const e = emit(rc.inputCountsSql(i));
      return { table: i.table.name, requires: i.requires, sql: e.sql, parameters: e.parameters };
    }),
  };
  if (rc.scopeColumn) out.scope = { table: rc.scopeTables[0], column: rc.scopeColumn };
  return out;
}

function skipReason(def: RuleDefinition, params: Record<string, unknown>): string {
  const y = def.yaml;
  const n = y.get(y.root(), 'skip_reason');
  const fill = (s: string) => s.replace(/\{(\w+)\}/g, (all, k: string) => (params[`p_${k}`] !== undefined ? String(params[`p_${k}`]) : all));
  if (n) {
    const m = y.map(n, '`skip_reason`');
    const zh = y.optStr(m, 'zh', '`skip_reason.zh`') ?? '';
    const en = y.optStr(m, 'en', '`skip_reason.en`') ?? '';
    return `${fill(zh)} / ${fill(en)}`;
  }
  return '没有分组达到最小样本量 / no group reaches the minimum size';
}
