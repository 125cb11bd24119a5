/**
 * Checking one rule: the YAML of its logic and envelope plus every expression,
 * against the feed catalogue, into a RulePlan. Every mistake becomes a diagnostic
 * and checking goes on (an expression that fails stands for `null`, marked poison,
 * so it causes no second error), so one run reports all the mistakes of a file.
 */
import { feedTable, type ColumnType, type TableDef } from '../../../engine/feeds.ts';
import type { RuleParamDef } from '../../types.ts';
import { parseExpr } from '../ast.ts';
import type { RuleDefinition } from '../definition.ts';
import type { Construct, Dialect } from '../dialects/types.ts';
import { RuleError, didYouMean } from '../errors.ts';
import type { AtDates, IR, LookupPlan, Named, RowRef, SourcePlan } from '../plan/types.ts';
import { describeType, isNumeric, type VType } from '../scope.ts';
import { isScalar, isSeq, type Node, type YAMLMap, type YamlFile } from '../yaml-doc.ts';
import { ExprChecker, type ExprEnv } from './expr.ts';
import { newScope, type Scope } from './scope.ts';

/** The finished source: its plan and the scope its rows are seen in. */
export interface CheckedSource {
  plan: SourcePlan;
  scope: Scope;
}

export class CheckContext {
  readonly y: YamlFile;
  readonly root: YAMLMap;
  readonly env: ExprEnv;
  readonly diagnostics: RuleError[] = [];
  readonly inputs: { table: TableDef; requires: string[] }[] = [];

  constructor(
    readonly def: RuleDefinition,
    readonly dialect: Dialect,
  ) {
    this.y = def.yaml;
    this.root = this.y.root();
    this.env = {
      params: new Map(def.meta.params.map((p) => [p.name, p] as [string, RuleParamDef])),
      usedParams: new Set(),
      usedTables: new Map(),
      workdays: false,
      aliasCounter: 0,
      needs: (pos, construct, what) => {
        const why = this.dialect.unsupported[construct];
        if (why) this.diagnostics.push(new RuleError(pos, `rule ${this.def.meta.id}: ${what} is not available on ${this.dialect.name}: ${why}`, 'dialect-unsupported'));
      },
    };
  }

  /** Run a step; a RuleError becomes a diagnostic and `undefined` is returned. */
  attempt<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (err) {
      if (err instanceof RuleError) {
        this.diagnostics.push(err);
        return undefined;
      }
      throw err;
    }
  }

  poison(n: Node | null | undefined): IR {
    return { k: 'null', type: 'null', agg: false, span: this.y.nodePos(n), poison: true };
  }

  /** Check an expression node in a scope, with its expected type. A failure is recorded and yields poison. */
  expr(n: Node, scope: Scope, what: string, want?: VType | 'numeric' | 'any'): IR {
    let text: string | undefined;
    try {
      const src = this.y.expr(n, what);
      text = src.text;
      const ast = parseExpr(src);
      const t = new ExprChecker(this.env, src, this.diagnostics).check(ast, scope);
      if (want && want !== 'any' && !t.poison) {
        const ok = want === 'numeric' ? isNumeric(t.type) : t.type === want || t.type === 'null' || (want === 'number' && isNumeric(t.type));
        if (!ok) throw new RuleError(src.pos(ast.at), `${what} must be ${want === 'numeric' ? 'a number' : describeType(want)}, got ${describeType(t.type)}`);
      }
      if (t.agg && !scope.aggregates) throw new RuleError(src.pos(ast.at), `${what} cannot aggregate here`);
      return t;
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      this.diagnostics.push(err);
      // Parameters named in a broken expression count as used (no second, misleading error).
      for (const m of (text ?? '').matchAll(/\$([A-Za-z_]\w*)/g)) this.env.usedParams.add(m[1]!);
      return this.poison(n);
    }
  }

  optExpr(key: string, scope: Scope, want: VType | 'any', map: YAMLMap = this.root): IR | undefined {
    const n = this.y.get(map, key);
    if (n === undefined || (isScalar(n) && n.value === null)) return undefined;
    return this.expr(n, scope, `\`${key}\``, want);
  }

  /** A construct the target engine may lack: refused when the rule is checked, naming rule and construct. */
  needs(node: Node | null | undefined, construct: Construct, what: string): void {
    this.env.needs!(this.y.nodePos(node), construct, what);
  }

  tableRef(n: Node, what: string, required: boolean): { def: TableDef; alias: string } {
    const text = this.y.str(n, what).trim();
    const m = /^([A-Za-z_][\w]*\.[A-Za-z_][\w]*)(?:\s+(?:as\s+)?([A-Za-z_]\w*))?$/i.exec(text);
    if (!m) throw this.y.err(n, `${what}: write \`schema.table\` or \`schema.table as alias\`, e.g. \`treasury.payments as p\``);
    const src = this.y.expr(n, what);
    const def = new ExprChecker(this.env, src).table(m[1]!, 0, required);
    return { def, alias: m[2] ?? def.table };
  }

  globals(scope: Scope): void {
    scope.names.set('as_of', { kind: 'ir', ir: { k: 'param', name: 'as_of', ptype: 'date', type: 'date', agg: false, span: this.y.nodePos(this.root) } });
  }

  /** Bind a name to a derived relation's output (`__g."total"`, `w.__start`). */
  slot(scope: Scope, name: string, rel: string, col: string, type: VType, quoted = true, enumValues?: readonly string[]): void {
    scope.names.set(name, { kind: 'ir', ir: { k: 'slot', rel, name: col, quoted, type, agg: false, span: this.y.nodePos(this.root), ...(enumValues ? { enumValues } : {}) } });
  }

  /** `from` + `lookup` + `where` + `requires`: the rows a kind works on. */
  source(m: YAMLMap, what: string, extra: (s: Scope) => void = () => {}, allowed: string[] = []): CheckedSource {
    this.attempt(() => this.y.keys(m, ['from', 'lookup', 'where', 'requires', ...allowed], what));
    const { def, alias } = this.tableRef(this.y.required(m, 'from', what), '`from`', true);
    const scope = newScope(`in ${what}`, { primary: alias });
    const primary: RowRef = { alias, rel: alias, quoted: true, table: def };
    scope.tables.set(alias, primary);
    extra(scope);
    const lookups: LookupPlan[] = [];
    const lk = this.y.get(m, 'lookup');
    if (lk) {
      const lm = this.y.map(lk, '`lookup`');
      for (const item of lm.items) {
        this.attempt(() => {
          const la = String((item.key as { value: unknown }).value);
          if (scope.tables.has(la)) throw this.y.err(item.key as Node, `alias \`${la}\` is used twice`);
          const spec = this.y.map(item.value as Node, `lookup \`${la}\``);
          this.y.keys(spec, ['table', 'on', 'required', 'group_by', 'compute'], `lookup \`${la}\``);
          const t = this.tableRef(this.y.required(spec, 'table', `lookup \`${la}\``), '`table`', false);
          let grouped: LookupPlan['grouped'];
          const gb = this.y.get(spec, 'group_by');
          if (gb) {
            // An aggregated lookup: the table grouped first, then joined (e.g. the budget of a line).
            const inner = newScope(`in lookup \`${la}\``, { primary: la });
            inner.tables.set(la, { alias: la, rel: la, quoted: true, table: t.def });
            this.globals(inner);
            const groups = this.namedExprs(gb, '`group_by`', inner);
            const cn = this.y.get(spec, 'compute');
            const computes = cn ? this.namedExprs(cn, '`compute`', { ...inner, aggregates: true, where: 'in `compute`' }) : [];
            grouped = { groups, computes };
            const columns = [...groups, ...computes].map((x) => ({
              name: x.name, type: columnTypeOf(x.expr.type), nullable: true, label: x.name, ...(x.expr.enumValues ? { values: x.expr.enumValues } : {}),
            }));
            scope.tables.set(la, { alias: la, rel: la, quoted: true, table: { ...t.def, name: t.def.name, columns, key: groups.map((g) => g.name) } });
          } else {
            scope.tables.set(la, { alias: la, rel: la, quoted: true, table: t.def });
          }
          const on = this.expr(this.y.required(spec, 'on', `lookup \`${la}\``), scope, '`on`', 'boolean');
          const reqNode = this.y.get(spec, 'required');
          const inner = reqNode ? this.y.str(reqNode, '`required`') === 'true' : false;
          if (inner) this.env.usedTables.get(t.def.name)!.required = true;
          lookups.push({ alias: la, rel: la, table: t.def, ...(grouped ? { grouped } : {}), on, inner });
        });
      }
    }
    const requires = this.requires(m, def);
    return { plan: { primary, lookups, requires }, scope };
  }

  /** The source's `where:` (checked in `scope`, by default the source's). */
  where(m: YAMLMap, src: CheckedSource, scope: Scope = src.scope): CheckedSource {
    const w = this.y.get(m, 'where');
    if (!w) return src;
    return { ...src, plan: { ...src.plan, where: this.expr(w, scope, '`where`', 'boolean') } };
  }

  /** `requires: [fiscal_capacity]`: optional columns a row must have to be judged. */
  requires(m: YAMLMap, def: TableDef): string[] {
    const n = this.y.get(m, 'requires');
    const cols: string[] = [];
    if (n && !(isScalar(n) && n.value === null)) {
      for (const { value, node } of this.y.strList(n, 'a column name')) {
        this.attempt(() => {
          const c = def.columns.find((x) => x.name === value);
          if (!c) throw this.y.err(node, `\`requires\`: unknown column \`${value}\` in ${def.name}${didYouMean(value, def.columns.map((x) => x.name))}`);
          if (!c.nullable) throw this.y.err(node, `\`requires\`: ${def.name}.${value} is never missing (it is required by the feed contract); list only optional columns`);
          if (cols.includes(value)) throw this.y.err(node, `\`requires\`: \`${value}\` is listed twice`);
          cols.push(value);
        });
      }
    }
    this.inputs.push({ table: def, requires: cols });
    return cols;
  }

  /** `group_by: [a, b]` or `group_by: {name: expr}` → named expressions. */
  namedExprs(n: Node, what: string, scope: Scope): (Named & { node: Node })[] {
    const out: (Named & { node: Node })[] = [];
    if (isSeq(n) || isScalar(n)) {
      for (const { value, node } of this.y.strList(n, what)) {
        const t = this.expr(node, scope, what, 'any');
        const name = /^[A-Za-z_]\w*$/.test(value) ? value : /^\w+\.(\w+)$/.exec(value)?.[1];
        if (!name) {
          this.diagnostics.push(this.y.err(node, `${what}: give computed values a name (\`name: expression\`)`));
          continue;
        }
        out.push({ name, expr: t, node, span: this.y.nodePos(node) });
      }
      return out;
    }
    const m = this.y.map(n, what);
    for (const item of m.items) {
      const name = String((item.key as { value: unknown }).value);
      if (!/^[a-z_][a-z0-9_]*$/i.test(name)) {
        this.diagnostics.push(this.y.err(item.key as Node, `name \`${name}\` must be letters, digits and _`));
        continue;
      }
      out.push({ name, expr: this.expr(item.value as Node, scope, `\`${name}\``, 'any'), node: item.value as Node, span: this.y.nodePos(item.value as Node) });
    }
    return out;
  }

  /** Add the rule-level `let:` names to a finding scope (checked where used). */
  lets(scope: Scope): void {
    const n = this.y.get(this.root, 'let');
    if (!n) return;
    const m = this.attempt(() => this.y.map(n, '`let`'));
    if (!m) return;
    for (const item of m.items) {
      const name = String((item.key as { value: unknown }).value);
      this.attempt(() => {
        const src = this.y.expr(item.value as Node, `\`${name}\``);
        scope.names.set(name, { kind: 'let', expr: parseExpr(src), src, scope });
      });
    }
  }

  /** `at: quarter_ends`: which evaluation dates. */
  atDates(n: Node, table: TableDef): AtDates | undefined {
    return this.attempt(() => {
      const v = this.y.str(n, '`at`');
      const all = ['quarter_ends', 'month_ends', 'year_ends'];
      if (!all.includes(v)) throw this.y.err(n, `\`at: ${v}\` is not one of ${all.join(', ')}${didYouMean(v, all)}`);
      const a = AS_OF_KIND[table.name];
      if (a !== 'date') throw this.y.err(n, `\`at:\` needs a dated table (${table.name} has no date column)`);
      return v as AtDates;
    });
  }
}

import { AS_OF_COLUMNS } from '../emit/as-of.ts';
const AS_OF_KIND: Record<string, string> = Object.fromEntries(Object.entries(AS_OF_COLUMNS).map(([k, v]) => [k, v.kind]));

export function columnTypeOf(t: VType): ColumnType {
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

export { feedTable };
