/** Report wording in zh-CN (default) and English. */
import type { Lang } from './format.ts';

const STRINGS = {
  reportTitle: { zh: '国库资金审查报告', en: 'Treasury Funds Review Report' },
  allRegions: { zh: '全部地区', en: 'All regions' },
  generatedAt: { zh: '生成时间', en: 'Generated' },
  period: { zh: '审查期间', en: 'Period' },
  asOf: { zh: '预警及整改状态截至', en: 'Warnings and their state as of' },
  noData: { zh: '本节无数据：缺少', en: 'No data for this section: missing' },
  source: { zh: '数据来源查询', en: 'Source query' },
  queriesTitle: { zh: '附：数据来源查询', en: 'Annex: source queries' },
  queriesIntro: {
    zh: '报告中每个表格和图表均由下列查询生成，可用 fiscus query "<SQL>" --param 名=值 复核（值为 null 的参数用 --null 名）。',
    en: 'Every table and chart in this report comes from one of these queries; re-run any of them with fiscus query "<SQL>" --param name=value (a null parameter: --null name).',
  },
  // Sections
  execution: { zh: '一、预算执行', en: '1. Budget execution' },
  flags: { zh: '二、预警与整改', en: '2. Warnings and rectification' },
  debt: { zh: '三、政府债务', en: '3. Government debt' },
  transfers: { zh: '四、转移支付', en: '4. Transfer payments' },
  assets: { zh: '五、国有资产', en: '5. State assets' },
  appendix: { zh: '附录：高风险（红灯）预警清单', en: 'Appendix: high-severity (red) warnings' },
  annex: { zh: '附表', en: 'Annex tables' },
  seeAnnex: { zh: '共{total}个部门，以上为执行最慢和最快的部门，全部部门见附表。', en: '{total} departments: the slowest and the fastest are shown above; every department is in the annex tables.' },
  rowsInAnnex: { zh: '共{total}项，此处列出前{n}项，全部见附表。', en: '{total} rows: the first {n} are shown here; all of them are in the annex tables.' },
  execByDeptTopBottom: { zh: '执行最慢和最快的各{n}个部门（共{total}个）', en: 'The {n} slowest and {n} fastest of {total} departments' },
  highestN: { zh: '最高的{n}个，共{total}个', en: 'the highest {n} of {total}' },
  allDepts: { zh: '全部{total}个部门', en: 'all {total} departments' },
  shortId: { zh: '编号', en: 'ID' },
  unit: { zh: '单位', en: 'Unit' },
  findingPeriod: { zh: '期间', en: 'Period' },
  measureThreshold: { zh: '指标/阈值', en: 'Measure / threshold' },
  moneyIn: { zh: '金额为{unit}', en: 'money in {unit}' },
  moneyFunds: { zh: '涉及资金', en: 'Funds involved' },
  moneyOverLines: { zh: '超警戒线债务及负债', en: 'Debt and liabilities above warning lines' },
  moneyNote: {
    zh: '涉及资金：支付、预算、转移支付、专项债资金和资产类预警的金额合计；超警戒线债务及负债：债务率、债务限额、利息负担和国企负债率预警超出警戒线或限额的部分，以及国企亏损额。二者口径不同，不相加。',
    en: 'Funds involved: the amounts of payment, budget, transfer, bond-fund and asset warnings. Debt and liabilities above warning lines: how far debt ratios, debt limits, interest burdens and SOE leverage exceed their lines, and SOE losses. The two are different measures and are not added up.',
  },
  // Execution
  timeProgress: { zh: '时间进度', en: 'Time progress' },
  budget: { zh: '预算指标', en: 'Budget' },
  spent: { zh: '累计支出', en: 'Spent YTD' },
  execRate: { zh: '执行率', en: 'Execution rate' },
  gap: { zh: '与时间进度差(百分点)', en: 'Gap to time progress (pp)' },
  department: { zh: '主管部门', en: 'Department' },
  execByDept: { zh: '各部门预算执行进度', en: 'Execution by department against time progress' },
  fourBooks: { zh: '四本账执行情况', en: 'The four books' },
  fundSource: { zh: '预算类别', en: 'Budget' },
  monthly: { zh: '月度支出曲线', en: 'Monthly spending' },
  month: { zh: '月份', en: 'Month' },
  thisYear: { zh: '本年', en: 'This year' },
  lastYear: { zh: '上年同期', en: 'Last year' },
  slowest: { zh: '执行最慢的部门', en: 'Slowest departments' },
  fastest: { zh: '执行最快的部门', en: 'Fastest departments' },
  totalBudget: { zh: '预算指标合计', en: 'Total budget' },
  totalSpent: { zh: '累计支出合计', en: 'Total spent' },
  payments: { zh: '支付笔数', en: 'Payments' },
  // Flags
  flagsInQuarter: { zh: '本季度预警', en: 'Warnings this quarter' },
  flagsYtd: { zh: '本年累计预警', en: 'Warnings year to date' },
  byRule: { zh: '按规则和等级分列的预警（本年累计）', en: 'Warnings by rule and severity (year to date)' },
  rule: { zh: '预警规则', en: 'Rule' },
  loopFigures: { zh: '闭环整改情况', en: 'Closed-loop figures' },
  overdueItems: { zh: '逾期未整改事项', en: 'Overdue items' },
  noOverdue: { zh: '无逾期事项。', en: 'No overdue items.' },
  dueDate: { zh: '整改期限', en: 'Due' },
  assignedTo: { zh: '责任单位', en: 'Responsible unit' },
  status: { zh: '状态', en: 'Status' },
  title: { zh: '事项', en: 'Item' },
  amountInvolved: { zh: '涉及金额', en: 'Money involved' },
  high: { zh: '红灯', en: 'High' },
  medium: { zh: '黄灯', en: 'Medium' },
  low: { zh: '紫灯', en: 'Low' },
  total: { zh: '合计', en: 'Total' },
  // Debt
  debtPositions: { zh: '债务限额、余额与风险指标', en: 'Debt limits, balances and risk indicators' },
  region: { zh: '地区', en: 'Region' },
  debtLimit: { zh: '债务限额', en: 'Limit' },
  debtBalance: { zh: '债务余额', en: 'Balance' },
  debtRatio: { zh: '债务率', en: 'Debt ratio' },
  limitUse: { zh: '限额使用率', en: 'Limit used' },
  interestBurden: { zh: '利息负担率', en: 'Interest burden' },
  debtRatioChart: { zh: '各地区债务率（警戒线100%，高风险线120%）', en: 'Debt ratio by region (warning 100%, high 120%)' },
  specialBonds: { zh: '专项债券借用还情况', en: 'Special bonds: borrow, use, repay' },
  bond: { zh: '债券', en: 'Bond' },
  faceAmount: { zh: '发行额', en: 'Issued' },
  allocated: { zh: '已分配', en: 'Allocated' },
  bondSpent: { zh: '已支出', en: 'Spent' },
  spentShare: { zh: '支出进度', en: 'Spent share' },
  serviceDue: { zh: '本年到期应付本息', en: 'Debt service due this year' },
  servicePaid: { zh: '已偿付', en: 'Paid' },
  serviceOverdue: { zh: '到期未足额偿付笔数', en: 'Overdue service items' },
  // Transfers
  timeliness: { zh: '转移支付下达及时性', en: 'Timeliness of transfers issued' },
  category: { zh: '类别', en: 'Category' },
  count: { zh: '笔数', en: 'Count' },
  amount: { zh: '金额', en: 'Amount' },
  avgDays: { zh: '平均下达天数', en: 'Average days to issue' },
  lateCount: { zh: '超时下达笔数', en: 'Issued late' },
  directFunds: { zh: '直达资金支付进度', en: 'Direct funds disbursement' },
  program: { zh: '项目', en: 'Program' },
  disbursed: { zh: '已支付', en: 'Disbursed' },
  disbursedShare: { zh: '支付进度', en: 'Disbursed share' },
  issuedDate: { zh: '下达日期', en: 'Issued' },
  // Assets
  disposals: { zh: '资产处置情况', en: 'Asset disposals' },
  appraised: { zh: '评估价值', en: 'Appraised' },
  belowAppraisal: { zh: '低于评估价90%笔数', en: 'Below 90% of appraisal' },
  noApproval: { zh: '无审批文号笔数', en: 'Without approval no.' },
  idleAssets: { zh: '闲置资产', en: 'Idle assets' },
  originalValue: { zh: '原值', en: 'Original value' },
  soeLeverage: { zh: '国有企业资产负债率（最新月报）', en: 'SOE leverage (latest monthly report)' },
  enterprise: { zh: '企业', en: 'Enterprise' },
  totalAssets: { zh: '资产总额', en: 'Total assets' },
  totalLiabilities: { zh: '负债总额', en: 'Liabilities' },
  leverage: { zh: '资产负债率', en: 'Leverage' },
  netProfit: { zh: '净利润(累计)', en: 'Net profit (YTD)' },
  // Appendix
  entity: { zh: '对象', en: 'Entity' },
  measure: { zh: '指标值/阈值', en: 'Measure / threshold' },
  evidence: { zh: '证据', en: 'Evidence' },
  noHigh: { zh: '本期无红灯预警。', en: 'No high-severity warnings in this period.' },
} as const;

export type StringKey = keyof typeof STRINGS;

/** The text of `key`; `{name}` placeholders are filled from `vars`. */
/**
 * A parenthetical in the report's language: full-width brackets in Chinese, "Budget（万元）",
 * an ASCII space and brackets in English, "Budget (10k yuan)". Brackets inside data values
 * (an agency's or a bond's own name) are the data's and stay as they are.
 */
export function paren(lang: Lang, inner: string | number): string {
  return lang === 'zh' ? `（${inner}）` : ` (${inner})`;
}

export function t(lang: Lang, key: StringKey, vars?: Record<string, string | number>): string {
  const text: string = STRINGS[key][lang];
  return vars ? text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : text;
}

const FUND_SOURCES: Record<string, { zh: string; en: string }> = {
  general: { zh: '一般公共预算', en: 'General public budget' },
  gov_fund: { zh: '政府性基金预算', en: 'Government funds' },
  soe_capital: { zh: '国有资本经营预算', en: 'State capital operations' },
  social_insurance: { zh: '社会保险基金预算', en: 'Social insurance funds' },
};

export function fundSourceName(code: string, lang: Lang): string {
  return FUND_SOURCES[code]?.[lang] ?? code;
}

const CATEGORIES: Record<string, { zh: string; en: string }> = {
  general: { zh: '一般性转移支付', en: 'General transfers' },
  special: { zh: '专项转移支付', en: 'Special transfers' },
  pass_through: { zh: '上级资金转下达', en: 'Pass-through of funds from above' },
};

export function transferCategoryName(code: string, lang: Lang): string {
  return CATEGORIES[code]?.[lang] ?? code;
}
