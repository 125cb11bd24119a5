/**
 * Built-in header and value aliases: what a Chinese finance-bureau export calls
 * a canonical column (or an enum value) without anyone writing a mapping profile.
 *
 * Every table gets, for each of its columns, the column's own `label` from
 * engine/feeds.ts plus the common variants listed here. A variant that would
 * name two columns of the same table is dropped for that table (the label
 * wins), so an alias never guesses between columns.
 */
import type { TableDef } from '../engine/feeds.ts';

/** Common header variants by canonical column name (applies to every table with that column). */
const HEADER_VARIANTS: Record<string, readonly string[]> = {
  amount: ['金额', '支付金额', '拨付金额', '发生额'],
  pay_date: ['支付日期', '拨付日期', '付款日期', '支付时间'],
  agency_code: ['单位编码', '单位代码', '预算单位编码', '预算单位代码', '单位编号'],
  agency_name: ['单位名称', '预算单位名称', '预算单位'],
  dept_code: ['主管部门编码', '主管部门代码', '部门编码', '部门代码'],
  payee_name: ['收款人', '收款单位', '收款人名称', '收款人全称', '收款单位名称'],
  payee_account: ['收款账号', '收款人账号', '收款人账户', '收款账户'],
  payee_type: ['收款人类型', '收款人性质'],
  func_code: ['功能科目', '功能分类', '功能科目编码', '功能分类科目', '功能分类编码', '支出功能分类科目'],
  econ_code: ['经济科目', '经济分类', '经济科目编码', '经济分类科目', '经济分类编码', '部门经济分类', '部门预算支出经济分类'],
  purpose: ['摘要', '用途', '资金用途', '支付用途'],
  payment_id: ['支付凭证号', '凭证号', '支付单号', '支付编号', '支付凭证编号', '凭证编号'],
  fiscal_year: ['年度', '预算年度', '会计年度'],
  region_code: ['区划', '区划代码', '区划编码', '行政区划代码', '行政区划编码'],
  region_name: ['区划名称', '行政区划名称'],
  parent_code: ['上级区划', '上级区划编码'],
  indicator_id: ['指标编号', '指标编码', '指标ID', '指标id', '预算指标编号'],
  base_indicator_id: ['原指标编号', '原指标编码'],
  fund_source: ['资金性质', '资金来源', '预算类型'],
  project_code: ['项目代码', '项目编码', '项目编号'],
  project_name: ['项目名称'],
  pay_method: ['支付方式'],
  direct_fund: ['是否直达资金', '直达资金', '直达资金标识'],
  approved_date: ['批复日期', '下达日期', '指标下达日期'],
  bond_code: ['债券代码', '债券编码'],
  bond_name: ['债券名称', '债券简称'],
  issue_date: ['发行日期', '发行日'],
  maturity_date: ['到期日期', '到期日'],
  face_amount: ['发行金额', '发行额', '发行规模'],
  coupon_rate: ['票面利率', '利率', '票面利率(%)'],
  asset_id: ['资产编号', '资产编码', '卡片编号'],
  asset_name: ['资产名称'],
  original_value: ['原值', '资产原值'],
  net_value: ['净值', '资产净值', '账面净值'],
  approval_no: ['审批文号', '批复文号'],
  doc_no: ['文号', '下达文号'],
  transfer_id: ['转移支付编号', '转移支付编码'],
  program_code: ['项目代码', '转移支付项目代码'],
  program_name: ['项目名称', '转移支付项目名称'],
  enterprise_code: ['企业代码', '统一社会信用代码', '企业编码'],
  enterprise_name: ['企业名称'],
};

/** Chinese (and a few English) spellings of enum values, by column name. */
const VALUE_VARIANTS: Record<string, Record<string, string>> = {
  fund_source: {
    一般公共预算: 'general',
    一般公共预算资金: 'general',
    政府性基金: 'gov_fund',
    政府性基金预算: 'gov_fund',
    国有资本经营: 'soe_capital',
    国有资本经营预算: 'soe_capital',
    社会保险基金: 'social_insurance',
    社会保险基金预算: 'social_insurance',
  },
  payee_type: { 单位: 'org', 个人: 'individual', 对公: 'org', 对私: 'individual' },
  pay_method: { 直接支付: 'direct', 授权支付: 'authorized' },
  level: { 省: 'province', 省级: 'province', 市: 'city', 市级: 'city', 县: 'county', 县级: 'county', 区: 'county' },
  kind: {
    年初: 'initial',
    年初预算: 'initial',
    追加: 'adjustment',
    调减: 'adjustment',
    调整: 'adjustment',
    追加或调减: 'adjustment',
    节假日: 'holiday',
    休息日: 'holiday',
    假日: 'holiday',
    调休上班: 'workday',
    工作日: 'workday',
  },
  bond_type: { 一般债券: 'general', 一般债: 'general', 专项债券: 'special', 专项债: 'special' },
  purpose: { 新增: 'new', 新增债券: 'new', 再融资: 'refinancing', 再融资债券: 'refinancing' },
  category: {
    一般性: 'general',
    一般性转移支付: 'general',
    专项: 'special',
    专项转移支付: 'special',
    土地: 'land',
    房屋: 'building',
    房屋及构筑物: 'building',
    车辆: 'vehicle',
    通用设备: 'general_equipment',
    专用设备: 'special_equipment',
    家具: 'furniture',
    家具用具: 'furniture',
    无形资产: 'intangible',
    其他: 'other',
  },
  status: { 在用: 'in_use', 闲置: 'idle', 出租: 'leased', 出借: 'lent', 已处置: 'disposed', 处置: 'disposed' },
  change_type: {
    购置: 'acquire',
    新增: 'acquire',
    处置: 'dispose',
    出租: 'lease',
    出借: 'lend',
    对外投资: 'invest',
    调拨: 'transfer',
    划转: 'transfer',
    重估: 'revalue',
    评估调整: 'revalue',
  },
};

/**
 * Header normalisation used for every comparison: case, spaces, full-width
 * brackets and the BOM do not matter; a unit suffix such as `(元)` is kept
 * here and handled by `splitUnitSuffix`.
 */
export function normalizeHeader(h: string): string {
  return h
    .replace(/^\uFEFF/, '')
    .replace(/[（]/g, '(')
    .replace(/[）]/g, ')')
    .replace(/[\s\u3000]+/g, '')
    .toLowerCase();
}

/** `支付金额(万元)` → { base: '支付金额', unit: '万元' }; also 元, 千元, 百万元, 亿元 and `[万元]`, `（亿元）`. */
export function splitUnitSuffix(normalized: string): { base: string; unit?: string } {
  const m = /^(.*?)[([](元|十元|百元|千元|万元|十万元|百万元|千万元|亿元)[)\]]$/.exec(normalized);
  if (!m) return { base: normalized };
  return { base: m[1], unit: m[2] };
}

export interface TableAliases {
  /** normalized header → canonical column. */
  headers: Map<string, string>;
  /** column → the alias spellings (for error messages). */
  byColumn: Map<string, string[]>;
}

const CACHE = new Map<string, TableAliases>();

export function tableAliases(t: TableDef): TableAliases {
  const cached = CACHE.get(t.name);
  if (cached) return cached;
  const headers = new Map<string, string>();
  const byColumn = new Map<string, string[]>();
  const labels = new Map<string, string>();
  for (const c of t.columns) labels.set(normalizeHeader(c.label), c.name);
  const conflicts = new Set<string>();
  for (const c of t.columns) {
    const spellings = [c.label, ...(HEADER_VARIANTS[c.name] ?? [])];
    for (const s of spellings) {
      const n = normalizeHeader(s);
      const labelOwner = labels.get(n);
      if (labelOwner !== undefined && labelOwner !== c.name) continue; // another column's label wins
      const prev = headers.get(n);
      if (prev !== undefined && prev !== c.name) {
        conflicts.add(n);
        continue;
      }
      headers.set(n, c.name);
    }
  }
  for (const n of conflicts) if (!labels.has(n)) headers.delete(n);
  for (const [n, col] of headers) {
    const list = byColumn.get(col) ?? [];
    list.push(n);
    byColumn.set(col, list);
  }
  const out = { headers, byColumn };
  CACHE.set(t.name, out);
  return out;
}

/** Enum value spellings accepted for a column, beyond its canonical values (lower-cased keys). */
export function valueAliases(column: string, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(VALUE_VARIANTS[column] ?? {})) {
    if (allowed.includes(v)) out[k.toLowerCase()] = v;
  }
  return out;
}
