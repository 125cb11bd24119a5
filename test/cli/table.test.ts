/** cli/table.ts: compact tables fitted to a width, CJK counted as two cells. */
import { describe, expect, it } from 'vitest';
import { displayWidth, fitTable, outputWidth } from '../../cli/table.ts';

const rows = [
  { id: 'a1', rule: 'asset.disposal_below_appraisal', title: '资产处置低于评估价：济宁市公安局 处置 警用巡逻车（鲁H·0823警） 成交61,000.00元' },
  { id: 'b2', rule: 'asset.idle', title: 'short\nwith a newline' },
];

describe('fitTable', () => {
  it('counts East Asian wide characters as two cells', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('资产')).toBe(4);
    expect(displayWidth('（鲁H）')).toBe(7);
  });

  it('fits the width: the title first, then the rule id, are cut with …; one line a row', () => {
    for (const width of [60, 50]) {
      const out = fitTable(rows, ['id', 'rule', 'title'], { width, flex: 'title', minFlex: 10, alsoShrink: [{ column: 'rule', min: 10 }] });
      const lines = out.trimEnd().split('\n');
      expect(lines).toHaveLength(6); // top, header, rule, 2 rows, bottom
      for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(width);
      expect(lines.filter((l) => l.startsWith('├'))).toHaveLength(1);
      expect(out).toContain('…');
      expect(out).toMatch(/│ short wi/); // the newline became a space
    }
  });

  it('never squeezes the title below its minimum, and keeps whole text when it fits', () => {
    const narrow = fitTable(rows, ['id', 'rule', 'title'], { width: 20, flex: 'title', minFlex: 12 });
    expect(narrow.split('\n')[3]).toMatch(/资产处置/);
    const wide = fitTable(rows, ['id', 'rule', 'title'], { width: 300, flex: 'title' });
    expect(wide).toContain(rows[0]!.title);
    expect(fitTable([], ['id'], { width: 80, flex: 'id' })).toBe('(no rows)\n');
  });

  it('uses the terminal width, else $COLUMNS, else 160', () => {
    const saved = process.env.COLUMNS;
    try {
      expect(outputWidth(90)).toBe(90);
      process.env.COLUMNS = '133';
      expect(outputWidth(undefined)).toBe(133);
      delete process.env.COLUMNS;
      expect(outputWidth(undefined)).toBe(160);
    } finally {
      if (saved === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = saved;
    }
  });
});
