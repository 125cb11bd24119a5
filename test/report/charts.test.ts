/**
 * The department chart's time-progress line (report/charts.ts): its label is printed
 * whole inside the picture, in its own band above the bars, and the bars' value labels
 * never sit on it — in Chinese and English, with the line near either edge. Read from
 * the SVG echarts renders on the server.
 */
import { describe, expect, it } from 'vitest';
import { barChart } from '../../report/charts.ts';

interface SvgText {
  text: string;
  x: number;
  y: number;
  anchor: string;
  size: number;
  fill: string;
}

function texts(svg: string): SvgText[] {
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map(([, attrs, text]) => {
    const [, x, y] = /translate\(([-\d.]+) ([-\d.]+)\)/.exec(attrs!)!;
    return {
      text: text!,
      x: Number(x),
      y: Number(y) + Number(/\sy="([-\d.]+)"/.exec(attrs!)?.[1] ?? 0),
      anchor: /text-anchor="(\w+)"/.exec(attrs!)?.[1] ?? 'start',
      size: Number(/font-size:(\d+)px/.exec(attrs!)![1]),
      fill: /fill="([^"]+)"/.exec(attrs!)?.[1] ?? '',
    };
  });
}

/** A generous width estimate: a CJK character is one em, anything else 0.62 em. */
const width = (t: SvgText) => [...t.text].reduce((w, c) => w + (c.codePointAt(0)! > 0x2e80 ? 1 : 0.62) * t.size, 0);
const extent = (t: SvgText): [number, number] =>
  t.anchor === 'end' ? [t.x - width(t), t.x] : t.anchor === 'middle' ? [t.x - width(t) / 2, t.x + width(t) / 2] : [t.x, t.x + width(t)];

const departments = Array.from({ length: 16 }, (_, i) => `部门${i + 1}`);

describe('department chart with the time-progress line', () => {
  it.each([
    ['Time progress 100.00%', 100, [99.5, 101.2, 98]],
    ['时间进度 100.00%', 100, [99.5, 101.2, 98]],
    ['Time progress 25.00%', 25, [24.9, 3, 60]],
    ['Time progress 75.00%', 75, [40, 74.8, 76.1]],
  ])('%s: the label is whole, inside the picture, above the bars and off their values', (label, progress, head) => {
    const data = [...head, ...departments.slice(3).map((_, i) => 40 + i * 3)];
    const svg = barChart({ categories: departments, series: [{ name: 'rate', data }], horizontal: true, referenceLine: { value: progress, label }, valueSuffix: '%' });
    const width = Number(/<svg width="(\d+)"/.exec(svg)![1]);
    const all = texts(svg);
    const ref = all.filter((t) => t.text === label);
    expect(ref).toHaveLength(1); // not cut to "Time progress 10("
    const [left, right] = extent(ref[0]!);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(right).toBeLessThanOrEqual(width);
    // Its own band: above the first department's bar and above the dashed line's top.
    const lineTop = Math.min(...[...svg.matchAll(/<path d="M([-\d.]+) ([-\d.]+)L[-\d.]+ [-\d.]+"[^>]*stroke-dasharray/g)].map((m) => Number(m[2])));
    const firstBar = Math.min(...all.filter((t) => departments.includes(t.text)).map((t) => t.y));
    expect(ref[0]!.y + ref[0]!.size / 2).toBeLessThanOrEqual(lineTop);
    expect(ref[0]!.y).toBeLessThan(firstBar - 10);
    // The bars' values are printed inside their ends (white), so none crosses the line.
    const values = all.filter((t) => /^\d+(\.\d+)?$/.test(t.text) && t.anchor === 'end' && t.y >= firstBar - 1);
    expect(values).toHaveLength(departments.length);
    for (const v of values) expect(v.fill).toBe('#fff');
  });
});
