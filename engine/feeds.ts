/**
 * The feed catalogue: every table of ../shared/FEEDS.md (and the livelihood-project tables of
 * projects/README.md), its columns, types and key.
 *
 * This is the single source of truth that the schema migrations, the ingest
 * validator, the mapping profiles and the rule compiler all read, so a column
 * is declared exactly once.
 */

/** Logical column types. Each maps to one DuckDB type and one parsing rule. */
export type ColumnType =
  | 'code' // string identifier; leading zeros kept
  | 'text' // free text
  | 'money' // yuan, DECIMAL(18,2)
  | 'rate' // a percentage such as a coupon rate, DECIMAL(9,4)
  | 'date' // calendar date
  | 'period' // YYYY-MM
  | 'year' // fiscal year, INTEGER
  | 'bool'
  | 'enum';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** `?` in FEEDS.md. */
  nullable: boolean;
  /** Allowed values for `enum` columns. */
  values?: readonly string[];
  /** Money columns that may be negative (reversals, adjustments). Others must be ≥ 0. */
  signed?: boolean;
  /** Chinese label, used in reports and in the built-in header aliases. */
  label: string;
}

export interface TableDef {
  /** `schema.table`, as in FEEDS.md and as the DuckDB table is named. */
  name: string;
  schema: string;
  table: string;
  label: string;
  columns: readonly ColumnDef[];
  key: readonly string[];
}

type ColSpec = [name: string, type: ColumnType, label: string, opts?: Partial<Omit<ColumnDef, 'name' | 'type' | 'label'>>];

const FUND_SOURCES = ['general', 'gov_fund', 'soe_capital', 'social_insurance'] as const;

function table(name: string, label: string, key: string[], cols: ColSpec[]): TableDef {
  const [schema, tbl] = name.split('.') as [string, string];
  const columns = cols.map(([n, type, lbl, opts]) => ({
    name: n,
    type,
    label: lbl,
    nullable: opts?.nullable ?? false,
    ...(opts?.values ? { values: opts.values } : {}),
    ...(opts?.signed ? { signed: true } : {}),
  }));
  for (const k of key) {
    if (!columns.some((c) => c.name === k)) throw new Error(`feed catalogue: key ${k} is not a column of ${name}`);
  }
  return { name, schema, table: tbl, label, columns, key };
}

const opt = { nullable: true } as const;

export const FEEDS: readonly TableDef[] = [
  table('ref.regions', '行政区划', ['region_code'], [
    ['region_code', 'code', '区划代码'],
    ['region_name', 'text', '区划名称'],
    ['parent_code', 'code', '上级区划代码', opt],
    ['level', 'enum', '级次', { values: ['province', 'city', 'county'] }],
  ]),
  table('ref.agencies', '预算单位', ['agency_code'], [
    ['agency_code', 'code', '单位代码'],
    ['agency_name', 'text', '单位名称'],
    ['dept_code', 'code', '主管部门代码'],
    ['region_code', 'code', '区划代码'],
  ]),
  table('ref.budget_sessions', '人代会批准预算', ['region_code', 'fiscal_year'], [
    ['region_code', 'code', '区划代码'],
    ['fiscal_year', 'year', '预算年度'],
    ['congress_approved_date', 'date', '人代会批准日期'],
  ]),
  table('ref.calendar', '工作日历', ['date'], [
    ['date', 'date', '日期'],
    ['kind', 'enum', '类型', { values: ['holiday', 'workday'] }],
  ]),
  table('treasury.budget_indicators', '预算指标', ['indicator_id'], [
    ['indicator_id', 'code', '指标编号'],
    ['fiscal_year', 'year', '预算年度'],
    ['region_code', 'code', '区划代码'],
    ['agency_code', 'code', '单位代码'],
    ['func_code', 'code', '功能分类科目'],
    ['econ_code', 'code', '经济分类科目'],
    ['fund_source', 'enum', '资金性质', { values: FUND_SOURCES }],
    ['project_code', 'code', '项目代码', opt],
    ['amount', 'money', '指标金额', { signed: true }],
    ['approved_date', 'date', '批复日期'],
    ['kind', 'enum', '指标类型', { values: ['initial', 'adjustment'] }],
    ['base_indicator_id', 'code', '原指标编号', opt],
  ]),
  table('treasury.payments', '国库集中支付明细', ['payment_id'], [
    ['payment_id', 'code', '支付凭证号'],
    ['fiscal_year', 'year', '预算年度'],
    ['region_code', 'code', '区划代码'],
    ['agency_code', 'code', '单位代码'],
    ['indicator_id', 'code', '指标编号', opt],
    ['func_code', 'code', '功能分类科目'],
    ['econ_code', 'code', '经济分类科目'],
    ['fund_source', 'enum', '资金性质', { values: FUND_SOURCES }],
    ['project_code', 'code', '项目代码', opt],
    ['payee_name', 'text', '收款人名称'],
    ['payee_account', 'code', '收款人账号'],
    ['payee_type', 'enum', '收款人类型', { values: ['org', 'individual'] }],
    ['amount', 'money', '支付金额', { signed: true }],
    ['pay_date', 'date', '支付日期'],
    ['pay_method', 'enum', '支付方式', { values: ['direct', 'authorized'] }],
    ['purpose', 'text', '摘要'],
    ['direct_fund', 'bool', '是否直达资金'],
  ]),
  table('debt.bonds', '政府债券', ['bond_code'], [
    ['bond_code', 'code', '债券代码'],
    ['bond_name', 'text', '债券名称'],
    ['region_code', 'code', '区划代码'],
    ['bond_type', 'enum', '债券类型', { values: ['general', 'special'] }],
    ['purpose', 'enum', '债券用途', { values: ['new', 'refinancing'] }],
    ['issue_date', 'date', '发行日期'],
    ['maturity_date', 'date', '到期日期'],
    ['face_amount', 'money', '发行金额'],
    ['coupon_rate', 'rate', '票面利率'],
  ]),
  table('debt.allocations', '专项债项目分配', ['allocation_id'], [
    ['allocation_id', 'code', '分配编号'],
    ['bond_code', 'code', '债券代码'],
    ['project_code', 'code', '项目代码'],
    ['project_name', 'text', '项目名称'],
    ['agency_code', 'code', '单位代码'],
    ['amount', 'money', '分配金额'],
    ['allocation_date', 'date', '分配日期'],
  ]),
  table('debt.spending', '债券资金支出', ['spend_id'], [
    ['spend_id', 'code', '支出编号'],
    ['bond_code', 'code', '债券代码'],
    ['project_code', 'code', '项目代码'],
    ['amount', 'money', '支出金额', { signed: true }],
    ['pay_date', 'date', '支付日期'],
  ]),
  table('debt.service', '还本付息', ['service_id'], [
    ['service_id', 'code', '还本付息编号'],
    ['bond_code', 'code', '债券代码'],
    ['due_date', 'date', '应付日期'],
    ['principal_due', 'money', '应还本金'],
    ['interest_due', 'money', '应付利息'],
    ['paid_date', 'date', '实付日期', opt],
    ['paid_amount', 'money', '实付金额', opt],
  ]),
  table('debt.positions', '债务限额与余额', ['region_code', 'fiscal_year'], [
    ['region_code', 'code', '区划代码'],
    ['fiscal_year', 'year', '年度'],
    ['debt_limit', 'money', '债务限额'],
    ['debt_balance', 'money', '债务余额'],
    // Optional (FEEDS.md): published panels lack budget figures for some region-years
    // (a production-and-construction corps); such a row still loads for debt.over_limit.
    ['fiscal_capacity', 'money', '综合财力', opt],
    ['interest_paid', 'money', '当年付息', opt],
    ['general_expenditure', 'money', '一般公共预算支出', opt],
    ['new_debt', 'money', '当年新增债务', opt],
  ]),
  table('assets.cards', '资产卡片', ['asset_id'], [
    ['asset_id', 'code', '资产编号'],
    ['agency_code', 'code', '单位代码'],
    ['category', 'enum', '资产分类', {
      values: ['land', 'building', 'vehicle', 'general_equipment', 'special_equipment', 'furniture', 'intangible', 'other'],
    }],
    ['asset_name', 'text', '资产名称'],
    ['acquired_date', 'date', '取得日期'],
    ['original_value', 'money', '原值'],
    ['net_value', 'money', '净值'],
    ['status', 'enum', '使用状态', { values: ['in_use', 'idle', 'leased', 'lent', 'disposed'] }],
  ]),
  table('assets.changes', '资产变动', ['change_id'], [
    ['change_id', 'code', '变动编号'],
    ['asset_id', 'code', '资产编号'],
    ['agency_code', 'code', '单位代码'],
    ['change_type', 'enum', '变动类型', {
      values: ['acquire', 'dispose', 'lease', 'lend', 'invest', 'transfer', 'revalue'],
    }],
    ['change_date', 'date', '变动日期'],
    ['amount', 'money', '交易金额', { signed: true }],
    ['appraised_value', 'money', '评估价值', opt],
    ['approval_no', 'code', '审批文号', opt],
    ['counterparty', 'text', '交易对方', opt],
  ]),
  table('assets.soe_financials', '国有企业月报', ['enterprise_code', 'period'], [
    ['enterprise_code', 'code', '企业代码'],
    ['period', 'period', '期间'],
    ['enterprise_name', 'text', '企业名称'],
    ['region_code', 'code', '区划代码'],
    ['total_assets', 'money', '资产总额', { signed: true }],
    ['total_liabilities', 'money', '负债总额', { signed: true }],
    ['revenue', 'money', '营业收入(累计)', { signed: true }],
    ['net_profit', 'money', '净利润(累计)', { signed: true }],
    ['state_equity', 'money', '国有权益', { signed: true }],
  ]),
  table('transfers.grants', '转移支付下达', ['transfer_id'], [
    ['transfer_id', 'code', '转移支付编号'],
    ['fiscal_year', 'year', '预算年度'],
    ['from_region', 'code', '下达区划'],
    ['to_region', 'code', '接收区划'],
    ['category', 'enum', '转移支付类别', { values: ['general', 'special'] }],
    ['program_code', 'code', '项目代码'],
    ['program_name', 'text', '项目名称'],
    ['amount', 'money', '下达金额', { signed: true }],
    ['doc_no', 'text', '文号'],
    ['received_date', 'date', '收到上级资金日期', opt],
    ['issued_date', 'date', '下达日期'],
    ['direct_fund', 'bool', '是否直达资金'],
  ]),
  table('transfers.disbursements', '直达资金支付', ['disbursement_id'], [
    ['disbursement_id', 'code', '支付编号'],
    ['transfer_id', 'code', '转移支付编号'],
    ['agency_code', 'code', '单位代码'],
    ['payee_name', 'text', '收款人名称'],
    ['amount', 'money', '支付金额', { signed: true }],
    ['pay_date', 'date', '支付日期'],
  ]),
  // Livelihood projects (民生实事项目代表票决制), projects/README.md. Their money is
  // treasury.payments by project_code; these tables hold the plan and the supervision.
  table('projects.projects', '民生实事项目', ['fiscal_year', 'project_code'], [
    ['project_code', 'code', '项目代码'],
    ['fiscal_year', 'year', '年度'],
    ['project_name', 'text', '项目名称'],
    ['region_code', 'code', '区划代码'],
    ['agency_code', 'code', '承办单位代码'],
    ['budget', 'money', '项目预算'],
    ['targets', 'text', '目标任务'],
    ['vote_date', 'date', '票决日期'],
    ['vote_result', 'enum', '票决结果', { values: ['passed', 'failed'] }],
    // Vote counts are digit strings: the catalogue has no count type (projects/README.md).
    ['votes_for', 'code', '赞成票'],
    ['votes_against', 'code', '反对票'],
    ['votes_abstain', 'code', '弃权票'],
  ]),
  table('projects.milestones', '项目节点', ['milestone_id'], [
    ['milestone_id', 'code', '节点编号'],
    ['fiscal_year', 'year', '年度'],
    ['project_code', 'code', '项目代码'],
    ['planned_date', 'date', '计划完成日期'],
    ['description', 'text', '节点内容'],
  ]),
  table('projects.progress', '项目进展', ['report_id'], [
    ['report_id', 'code', '进展编号'],
    ['fiscal_year', 'year', '年度'],
    ['project_code', 'code', '项目代码'],
    ['report_date', 'date', '报告日期'],
    ['percent_complete', 'rate', '完成进度(%)'],
    ['text', 'text', '进展情况'],
    ['documents', 'text', '附件(名称:SHA-256;…)', opt],
  ]),
  table('projects.supervision_groups', '代表监督小组', ['group_id', 'deputy_id'], [
    ['group_id', 'code', '监督小组编号'],
    ['fiscal_year', 'year', '年度'],
    ['project_code', 'code', '项目代码'],
    ['deputy_id', 'code', '代表编号'],
    ['deputy_name', 'text', '代表姓名'],
    ['role', 'enum', '小组职务', { values: ['leader', 'member'] }],
  ]),
];

const BY_NAME = new Map(FEEDS.map((t) => [t.name, t]));

export function feedTable(name: string): TableDef | undefined {
  return BY_NAME.get(name);
}

export function requireFeedTable(name: string): TableDef {
  const t = BY_NAME.get(name);
  if (!t) {
    throw new Error(`unknown table "${name}"; known tables: ${FEEDS.map((f) => f.name).join(', ')}`);
  }
  return t;
}

/** Whether `columns` (in any order) are exactly the table's primary key: then one row is one key tuple. */
export function isPrimaryKey(t: Pick<TableDef, 'key'>, columns: readonly string[]): boolean {
  return t.key.length === columns.length && t.key.every((k) => columns.includes(k));
}

/** The DuckDB type of a logical column type. */
export function sqlType(type: ColumnType): string {
  switch (type) {
    case 'money':
      return 'DECIMAL(18,2)';
    case 'rate':
      return 'DECIMAL(9,4)';
    case 'date':
      return 'DATE';
    case 'year':
      return 'INTEGER';
    case 'bool':
      return 'BOOLEAN';
    case 'code':
    case 'text':
    case 'enum':
    case 'period':
      return 'VARCHAR';
  }
}

/** Quote an identifier for DuckDB (identifiers cannot be bound as parameters). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `treasury.payments` → `"treasury"."payments"`. */
export function qualifiedName(t: Pick<TableDef, 'schema' | 'table'>): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}

/**
 * Bookkeeping columns the engine adds to every feed table. They start with an
 * underscore so they never collide with a feed column.
 */
export const SYSTEM_COLUMNS: readonly SystemColumn[] = [
  { name: 'extra', sql: 'JSON' }, // unknown source columns, never dropped (FEEDS.md)
  { name: '_batch_id', sql: 'VARCHAR NOT NULL' }, // the batch that wrote the current version
  // Hash of the canonical content (ingest/typed-select.ts): on DuckDB the 64-bit hash itself
  // (migration 11: its text cost ~7% of a load); PostgreSQL has no unsigned 64-bit type and
  // keeps the decimal text. Migration 1 created it as text on both.
  { name: '_row_hash', sql: 'VARCHAR NOT NULL', duckdb: 'UBIGINT NOT NULL' },
  { name: '_ingested_at', sql: 'TIMESTAMPTZ NOT NULL' },
];

export interface SystemColumn {
  name: string;
  /**
   * Its type as migration 1 created it (released migrations replay it), and its type now on an
   * engine with no entry of its own. A later type change is an engine's entry, never an edit here.
   */
  sql: string;
  /** Its type now on DuckDB, where a migration changed it. */
  duckdb?: string;
}

/** A system column's type on an engine now, or as migration 1 created it (`'released'`). */
export function systemColumnType(c: SystemColumn, as: 'duckdb' | 'postgres' | 'released'): string {
  return as === 'duckdb' ? c.duckdb ?? c.sql : c.sql;
}
