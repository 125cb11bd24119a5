// The console's words, zh-CN first, English second. One reactive language for the whole app;
// Element Plus gets its own locale from the same switch (App.vue).
import { ref } from 'vue';

export type Lang = 'zh' | 'en';
const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('fiscus.lang') : null;
export const lang = ref<Lang>(saved === 'en' ? 'en' : 'zh');

export function setLang(l: Lang): void {
  lang.value = l;
  localStorage.setItem('fiscus.lang', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

const M = {
  appTitle: ['预算联网监督 · 监督台', 'Budget supervision console'],
  appShort: ['监督台', 'Console'],
  loginTitle: ['登录监督台', 'Sign in to the console'],
  loginHint: ['请输入管理员分发给您的访问令牌。令牌只用于登录，不保存在浏览器中。', 'Enter the access token you were given. It is used to sign in and is not kept in the browser.'],
  token: ['访问令牌', 'Access token'],
  login: ['登录', 'Sign in'],
  logout: ['退出', 'Sign out'],
  language: ['语言', 'Language'],
  navInbox: ['预警收件箱', 'Inbox'],
  navWorkspace: ['本单位工作台', 'Unit workspace'],
  navDashboards: ['分析看板', 'Dashboards'],
  navQuery: ['查询分析', 'Query workspace'],
  navReports: ['季度报告', 'Reports'],
  navAlerts: ['预警动态', 'Alert feed'],
  navProjects: ['民生实事', 'Livelihood projects'],
  roleAdmin: ['系统管理员', 'Administrator'],
  roleSupervisor: ['预算工委', 'Committee staff'],
  roleAnalyst: ['分析人员', 'Analyst'],
  roleAgency: ['预算单位', 'Budget unit'],
  rolePortal: ['代表门户', 'Deputies portal'],
  roleSystem: ['系统', 'system'],
  roleCommittee: ['财经委', 'Committee'],
  votePassed: ['通过', 'passed'],
  voteFailed: ['未通过', 'failed'],
  filterRule: ['预警规则', 'Rule'],
  filterSeverity: ['预警等级', 'Severity'],
  filterStatus: ['办理状态', 'Status'],
  filterAgency: ['单位(含下属)', 'Unit (and below)'],
  filterOverdue: ['仅看逾期', 'Overdue only'],
  filterPeriod: ['问题期间', 'Period'],
  filterText: ['关键词', 'Search'],
  filterTextPh: ['标题、对象名称或编号', 'Title, entity name or id'],
  sort: ['排序', 'Sort'],
  sortNewest: ['最新发现', 'Newest'],
  sortSeverity: ['等级优先', 'Severity'],
  sortAmount: ['金额最大', 'Largest amount'],
  sortDue: ['期限最近', 'Due soonest'],
  reset: ['重置', 'Reset'],
  search: ['查询', 'Search'],
  all: ['全部', 'All'],
  periodFrom: ['开始日期', 'From'],
  periodTo: ['结束日期', 'To'],
  colSeverity: ['等级', 'Severity'],
  colTitle: ['问题', 'Finding'],
  colAgency: ['单位', 'Unit'],
  colAmount: ['金额(元)', 'Amount (yuan)'],
  colStatus: ['状态', 'Status'],
  colDue: ['办理期限', 'Due'],
  colSeen: ['发现时间', 'Found'],
  colLeft: ['剩余工作日', 'Working days left'],
  total: ['共 {n} 条', '{n} in all'],
  prevPage: ['上一页', 'Previous'],
  nextPage: ['下一页', 'Next'],
  pageN: ['第 {n} 页', 'Page {n}'],
  live: ['实时', 'Live'],
  liveOn: ['实时接收新预警', 'Receiving new alerts live'],
  liveOff: ['实时连接中断，正在重连', 'Live connection lost; reconnecting'],
  newAlerts: ['{n} 条新预警', '{n} new alerts'],
  showNew: ['刷新列表', 'Show them'],
  emptyInbox: ['没有符合条件的预警', 'No flags match these filters'],
  emptyWorkspace: ['本单位目前没有待办理的交办事项', 'Nothing is assigned to your unit right now'],
  loading: ['加载中…', 'Loading…'],
  overdueTag: ['逾期 {n} 个工作日', 'Overdue {n} working days'],
  daysLeft: ['剩 {n} 个工作日', '{n} working days left'],
  notReproduced: ['已不再复现', 'No longer reproduced'],
  back: ['返回', 'Back'],
  flagBasics: ['基本情况', 'Summary'],
  rule: ['规则', 'Rule'],
  entity: ['对象', 'Entity'],
  region: ['区划', 'Region'],
  fiscalYear: ['年度', 'Fiscal year'],
  period: ['期间', 'Period'],
  measure: ['指标', 'Measure'],
  measureValue: ['实际值', 'Value'],
  threshold: ['阈值', 'Threshold'],
  amount: ['涉及金额(元)', 'Amount (yuan)'],
  assignedTo: ['交办单位', 'Assigned to'],
  deadline: ['办理期限', 'Deadline'],
  reportDue: ['报告截止', 'Report due'],
  votes: ['满意度测评', 'Satisfaction votes'],
  escalation: ['升级', 'Escalation'],
  escCandidate: ['拟质询/特定问题调查', 'Inquiry candidate'],
  escInquiry: ['已列入质询', 'Marked for inquiry'],
  evidence: ['证据明细', 'Evidence rows'],
  evidenceNone: ['此预警没有逐行证据', 'This flag has no row evidence'],
  evidenceMissing: ['源数据中已找不到此行', 'Row no longer in the source data'],
  evidenceKey: ['记录编号', 'key'],
  extraColumns: ['其他字段', 'extra'],
  evidenceQuery: ['汇总类问题的查询语句', 'Query behind this aggregate finding'],
  openInQuery: ['在查询分析中打开', 'Open in the query workspace'],
  history: ['办理过程', 'History'],
  documents: ['附件材料', 'Documents'],
  documentsNone: ['尚无附件', 'No documents yet'],
  upload: ['上传附件', 'Upload a document'],
  uploadHint: ['单个文件不超过 20 MB；系统按 SHA-256 存档', 'Up to 20 MB per file; archived by SHA-256'],
  download: ['下载', 'Download'],
  chooseFile: ['选择文件', 'Choose a file'],
  noFile: ['未选择文件', 'No file chosen'],
  actions: ['可办理操作', 'Next actions'],
  noActions: ['当前状态下您没有可执行的操作', 'You have no action in this state'],
  submit: ['提交', 'Submit'],
  cancel: ['取消', 'Cancel'],
  note: ['说明', 'Note'],
  reason: ['理由', 'Reason'],
  to: ['交办给', 'Assign to'],
  due: ['办理期限', 'Due date'],
  dueWorkdays: ['{n} 个工作日后（按法定节假日和调休计算）', '{n} working days from today (PRC holidays and make-up days)'],
  dueQuick: ['按工作日', 'In working days'],
  category: ['整改类型', 'Category'],
  catImmediate: ['立行立改', 'Immediate'],
  catPhased: ['分阶段整改', 'Phased'],
  catOngoing: ['持续整改', 'Ongoing'],
  timetable: ['整改时间表', 'Timetable'],
  milestoneDate: ['日期', 'Date'],
  milestoneTask: ['任务', 'Task'],
  addMilestone: ['添加节点', 'Add a milestone'],
  remove: ['删除', 'Remove'],
  recovered: ['追回资金(元)', 'Recovered (yuan)'],
  regularised: ['规范资金(元)', 'Regularised (yuan)'],
  attach: ['随附材料', 'Attached documents'],
  satisfied: ['满意', 'Satisfied'],
  basic: ['基本满意', 'Basically satisfied'],
  unsatisfied: ['不满意', 'Unsatisfied'],
  members: ['组成人员数', 'Members'],
  done: ['操作成功', 'Done'],
  refused: ['操作未成功', 'Not done'],
  wsIntro: ['以下是交办给本单位（含下属单位）的事项。请在期限内说明情况或报告整改，并上传相关材料。', 'These are the findings assigned to your unit (and the units below it). Explain or report rectification before the deadline, with documents.'],
  answer: ['办理', 'Answer'],
  dashExecution: ['预算执行进度与时间进度（按部门）', 'Budget execution against time progress (by department)'],
  dashFourBooks: ['四本账', 'The four books'],
  dashDebt: ['政府债务指标', 'Debt indicators'],
  dashLoop: ['闭环办理情况', 'The closed loop'],
  viewQuery: ['查看查询语句', 'View the query'],
  asOf: ['截至', 'As of'],
  year: ['年度', 'Year'],
  quarter: ['季度', 'Quarter'],
  execRate: ['执行率', 'Execution'],
  timeProgress: ['时间进度', 'Time progress'],
  budget: ['预算数', 'Budget'],
  spent: ['支出数', 'Spent'],
  noData: ['暂无数据', 'No data'],
  savedQueries: ['常用分析', 'Saved analyses'],
  sqlEditor: ['SQL 查询（只读，单条 SELECT）', 'SQL (read-only, one SELECT)'],
  params: ['参数', 'Parameters'],
  run: ['运行', 'Run'],
  exportCsv: ['导出 CSV', 'Export CSV'],
  exportXlsx: ['导出 Excel', 'Export Excel'],
  rows: ['{n} 行', '{n} rows'],
  truncated: ['结果已按行数上限截断', 'Result cut at the row limit'],
  elapsed: ['用时 {n} 毫秒', '{n} ms'],
  reportTitle: ['生成季度审查报告', 'Build the quarterly review report'],
  reportLang: ['报告语言', 'Report language'],
  downloadHtml: ['下载 HTML', 'Download HTML'],
  downloadPdf: ['下载 PDF', 'Download PDF'],
  generating: ['正在生成…', 'Building…'],
  reportHint: ['报告由与看板相同的常用分析生成，每张表和图都注明其查询语句。', 'The report is built from the same saved analyses as the dashboards; each table and chart names its query.'],
  alertsIntro: ['预警和办理动态，新事件实时到达。', 'Alerts and their progress; new events arrive live.'],
  event: ['事件', 'Event'],
  at: ['时间', 'Time'],
  actor: ['办理人', 'By'],
  sessionEnded: ['登录已失效，请重新登录', 'Your session has ended; please sign in again'],
  headlineDiscovered: ['发现问题', 'Found'],
  headlineAssigned: ['交办', 'Assigned'],
  headlineClosed: ['已销号', 'Verified and closed'],
  headlineOverdue: ['逾期', 'Overdue'],
  headlineRecovered: ['追回资金(元)', 'Recovered (yuan)'],
  skipToMain: ['跳到正文', 'Skip to content'],
  notFound: ['未找到该预警，或您无权查看', 'No such flag, or not yours to see'],
} as const;

export type MsgKey = keyof typeof M;

export function t(key: MsgKey, vars: Record<string, string | number> = {}): string {
  const s: string = M[key][lang.value === 'zh' ? 0 : 1];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

export const STATUS: Record<string, [string, string]> = {
  discovered: ['发现', 'Discovered'],
  confirmed: ['已确认', 'Confirmed'],
  dismissed: ['已排除', 'Dismissed'],
  assigned: ['已交办', 'Assigned'],
  explained: ['已说清(待认定)', 'Explained (awaiting decision)'],
  closed_explained: ['说清销号', 'Closed as explained'],
  rectifying: ['整改中', 'Rectifying'],
  rectified: ['已整改(待验收)', 'Rectified (awaiting check)'],
  verified: ['已销号', 'Verified and closed'],
};
export const ACTION: Record<string, [string, string]> = {
  confirm: ['确认', 'Confirm'],
  dismiss: ['排除', 'Dismiss'],
  keep: ['保留', 'Keep open'],
  assign: ['交办', 'Assign'],
  explain: ['说明情况', 'Explain'],
  'accept-explanation': ['认定说清', 'Accept explanation'],
  'reject-explanation': ['不予认定', 'Reject explanation'],
  'start-rectification': ['开始整改', 'Start rectification'],
  'report-rectified': ['报告整改完成', 'Report rectified'],
  verify: ['验收销号', 'Verify and close'],
  reopen: ['重新交办', 'Reopen'],
  extend: ['延期', 'Extend'],
  vote: ['满意度测评', 'Satisfaction vote'],
};
export const EVENT: Record<string, [string, string]> = {
  'flag.discovered': ['规则发现', 'Found by a rule'],
  'flag.confirmed': ['确认', 'Confirmed'],
  'flag.dismissed': ['排除', 'Dismissed'],
  'flag.kept': ['保留', 'Kept open'],
  'flag.assigned': ['交办', 'Assigned'],
  'flag.explained': ['单位说明情况', 'Unit explained'],
  'flag.explanation_accepted': ['认定说清', 'Explanation accepted'],
  'flag.explanation_rejected': ['不予认定', 'Explanation rejected'],
  'flag.rectification_started': ['开始整改', 'Rectification started'],
  'flag.rectified': ['报告整改完成', 'Reported rectified'],
  'flag.verified': ['验收销号', 'Verified'],
  'flag.reopened': ['重新交办', 'Reopened'],
  'flag.extended': ['延期', 'Extended'],
  'flag.voted': ['满意度测评', 'Voted'],
  'flag.escalated': ['升级', 'Escalated'],
  'flag.overdue': ['逾期', 'Overdue'],
  'flag.due_soon': ['临近期限', 'Due soon'],
  'flag.not_reproduced': ['不再复现', 'No longer reproduced'],
  'flag.reproduced': ['再次复现', 'Reproduced again'],
};
/** FLAGS.md's entity types, and the livelihood projects'. */
export const ENTITY: Record<string, [string, string]> = {
  agency: ['单位', 'agency'],
  budget_line: ['预算科目', 'budget line'],
  payment: ['支付', 'payment'],
  payee: ['收款人', 'payee'],
  region: ['地区', 'region'],
  bond: ['债券', 'bond'],
  allocation: ['债券资金分配', 'allocation'],
  debt_service: ['还本付息', 'debt service'],
  transfer: ['转移支付', 'transfer'],
  asset: ['资产', 'asset'],
  asset_change: ['资产变动', 'asset change'],
  enterprise: ['国有企业', 'enterprise'],
  project: ['民生实事项目', 'project'],
};
export const SEVERITY: Record<string, [string, string, string]> = {
  high: ['红灯', 'Red', '#c62828'],
  medium: ['黄灯', 'Yellow', '#b26a00'],
  low: ['紫灯', 'Purple', '#6a1b9a'],
};
export const ROLE_KEY: Record<string, MsgKey> = {
  admin: 'roleAdmin',
  supervisor: 'roleSupervisor',
  analyst: 'roleAnalyst',
  agency: 'roleAgency',
  portal: 'rolePortal',
  committee: 'roleCommittee',
};

export function label(table: Record<string, readonly string[]>, key: string | null | undefined): string {
  if (!key) return '';
  const v = table[key];
  return v ? v[lang.value === 'zh' ? 0 : 1]! : key;
}

/** Dates users see are Asia/Shanghai. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(lang.value === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(new Date(iso));
}

/** Money arrives as exact decimal strings: group the digits without going through a float. */
export function fmtMoney(s: string | null | undefined): string {
  if (s === null || s === undefined || s === '') return '';
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(String(s));
  if (!m) return String(s);
  return `${m[1]}${m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}
