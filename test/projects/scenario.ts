/**
 * The bundled sample's 2025 livelihood projects taken through a year — the numbers the
 * tests hand-count. Budgets and vote counts are in fixtures/sample-projects.ts; spending is
 * the sample's own treasury.payments by project_code (counted with a script over the CSV,
 * not with fiscus: fiscal_year 2025, reversals included).
 */
export const YEAR = 2025;

/** [code, agency, budget, spent, payments] — hand-counted from fixtures/sample/*.csv. */
export const PROJECTS: Array<[string, string, string, string, number]> = [
  ['XM2025-A0103-01', 'A0103', '3600000.00', '3442036.24', 26],
  ['XM2025-A0104-01', 'A0104', '1500000.00', '1446675.46', 25],
  ['XM2025-A0105-01', 'A0105', '3000000.00', '2760000.00', 26],
  ['XM2025-A0106-02', 'A0106', '15000000.00', '13730000.03', 25],
  ['XM2025-A0107-02', 'A0107', '20000000.00', '19000000.00', 28],
  ['XM2025-A0109-01', 'A0109', '3000000.00', '2890000.00', 25],
  ['XM2025-A0111-01', 'A0111', '1800000.00', '1687746.22', 24],
  ['XM2025-A0113-01', 'A0113', '1000000.00', '952504.30', 28],
  ['XM2025-A0114-01', 'A0114', '3500000.00', '3280335.99', 25],
  ['XM2025-B0101-01', 'B0101', '800000.00', '775174.35', 24],
];
export const TOTAL_BUDGET = '53200000.00';
export const TOTAL_SPENT = '49964472.59';
export const TOTAL_PAYMENTS = 256;
/** 49964472.59 / 53200000.00 = 93.918… % */
export const TOTAL_EXECUTION = '93.92';

/** Group G2025-NN follows project NN; its first deputy D(3N-2) leads. */
export const GRADES: Record<string, '好' | '较好' | '一般' | '差'> = {
  'XM2025-A0103-01': '好', 'XM2025-A0104-01': '好', 'XM2025-A0105-01': '一般', 'XM2025-A0106-02': '好', 'XM2025-A0107-02': '较好',
  'XM2025-A0109-01': '好', 'XM2025-A0111-01': '好', 'XM2025-A0113-01': '较好', 'XM2025-A0114-01': '好', 'XM2025-B0101-01': '较好',
};
export const GROUP = (code: string): string => `G2025-${String(PROJECTS.findIndex((p) => p[0] === code) + 1).padStart(2, '0')}`;

/** [satisfied, basic, unsatisfied] per project: 312 ballots each. */
export const VOTES: Record<string, [number, number, number]> = {
  'XM2025-A0103-01': [250, 50, 12], 'XM2025-A0104-01': [240, 60, 12], 'XM2025-A0105-01': [150, 100, 62], 'XM2025-A0106-02': [260, 40, 12],
  'XM2025-A0107-02': [200, 80, 32], 'XM2025-A0109-01': [255, 45, 12], 'XM2025-A0111-01': [270, 35, 7], 'XM2025-A0113-01': [230, 60, 22],
  'XM2025-A0114-01': [250, 50, 12], 'XM2025-B0101-01': [265, 40, 7],
};
/** Σ satisfied 2370, basic 560, unsatisfied 190: 3120 ballots; (2370 + 560) / 3120 = 93.910… % */
export const VOTE_TOTALS = { satisfied: 2370, basic: 560, unsatisfied: 190, ballots: 3120, satisfaction_pct: '93.91' };

/** The problems: P1 fixed (A0105, deputy D007 of G2025-03), P2 overdue (A0107-02, deputy D013 of G2025-05). */
export const P1 = { code: 'XM2025-A0105-01', agency: 'A0105', deputy: 'D007', text: '施工围挡占用小区消防通道', address: '任城区古槐路某小区' };
export const P2 = { code: 'XM2025-A0107-02', agency: 'A0107', deputy: 'D013', text: '新建公厕未按期开放' };
/** The mid-year checklist: item 1 fixed, item 2 left overdue. */
export const CHECKLIST = [
  { project_code: 'XM2025-A0113-01', agency: 'A0113', text: '城市书房开放时间不足' },
  { project_code: 'XM2025-A0111-01', agency: 'A0111', text: '助餐点价格公示不全' },
];
