/**
 * Charts as inline SVG, rendered in Node by ECharts' server-side renderer
 * (no DOM, no remote assets), so the HTML report is one self-contained file.
 */
import { createHash } from 'node:crypto';
import * as echarts from 'echarts';

const FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif';
const PALETTE = ['#c23531', '#2f4554', '#61a0a8', '#d48265', '#91c7ae', '#749f83', '#ca8622', '#bda29a'];
export const SEVERITY_COLORS = { high: '#d9342b', medium: '#e6a700', low: '#8e5bc9' } as const;

function render(option: echarts.EChartsCoreOption, width = 760, height = 340): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, color: PALETTE, textStyle: { fontFamily: FONT }, ...option });
    return stableIds(chart.renderToSVGString());
  } finally {
    chart.dispose();
  }
}

/**
 * zrender names its CSS classes and clip paths after a process-wide counter
 * (`zr6-cls-25`, `zr6-c0`), so the same chart drawn twice differs. Rename them
 * by order of appearance under a prefix taken from the chart's own content:
 * the same data gives the same bytes, and two different charts in one HTML
 * file never share a name.
 */
export function stableIds(svg: string): string {
  const names = new Map<string, string>();
  const shape = svg.replace(/zr\d+-(c|cls)-?\d+/g, (m) => {
    if (!names.has(m)) names.set(m, String(names.size));
    return `\u0000${names.get(m)}\u0000`;
  });
  const prefix = `fc${createHash('sha256').update(shape).digest('hex').slice(0, 10)}`;
  return shape.replace(/\u0000(\d+)\u0000/g, (_m, n: string) => `${prefix}-${n}`);
}

/** Horizontal bars (e.g. execution rate by department) with an optional reference line (time progress). */
export function barChart(opts: {
  categories: string[];
  series: { name: string; data: (number | null)[]; color?: string; stack?: string }[];
  horizontal?: boolean;
  referenceLine?: { value: number; label: string };
  valueSuffix?: string;
  height?: number;
  /** Counts: no fractional ticks. */
  integer?: boolean;
}): string {
  const ref = opts.referenceLine;
  // The axis reaches past the reference line and the longest bar, so the line's label and the bars' labels stay inside.
  const top = Math.max(ref ? 100 : 0, ...opts.series.flatMap((s) => s.data.map((v) => v ?? 0)));
  const valueAxis = {
    type: 'value',
    minInterval: opts.integer ? 1 : undefined,
    max: ref ? Math.ceil((top * 1.08) / 10) * 10 : undefined,
    axisLabel: { formatter: `{value}${opts.valueSuffix ?? ''}` },
  };
  const categoryAxis = { type: 'category', data: opts.categories, axisLabel: { interval: 0, fontSize: 11 } };
  // The reference line's label sits above the plot (its own band of the grid's top margin), aligned
  // towards the plot so it is never clipped at the right edge, and never on the bars' value labels.
  const refTop = ref && opts.horizontal ? 24 : 0;
  return render(
    {
      legend: opts.series.length > 1 ? { top: 0 } : undefined,
      grid: { left: opts.horizontal ? 8 : 60, right: 48, top: (opts.series.length > 1 ? 30 : 20) + refTop, bottom: 40, containLabel: opts.horizontal },
      xAxis: opts.horizontal ? valueAxis : categoryAxis,
      yAxis: opts.horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
      series: opts.series.map((s, i) => ({
        type: 'bar',
        name: s.name,
        data: s.data,
        stack: s.stack,
        itemStyle: s.color ? { color: s.color } : undefined,
        // With a reference line the values sit inside the bars' ends, so they never cross the line.
        label:
          opts.series.length === 1
            ? ref && opts.horizontal
              ? { show: true, position: 'insideRight', fontSize: 10, color: '#fff' }
              : { show: true, position: opts.horizontal ? 'right' : 'top', fontSize: 10 }
            : undefined,
        markLine:
          i === 0 && opts.referenceLine
            ? {
                symbol: 'none',
                lineStyle: { color: '#333', type: 'dashed' },
                label: {
                  formatter: opts.referenceLine.label,
                  // Horizontal bars run top-down (inverse category axis): the line's start is its top.
                  position: opts.horizontal ? 'start' : 'end',
                  distance: 6,
                  align: opts.horizontal && valueAxis.max && opts.referenceLine.value > valueAxis.max / 2 ? 'right' : 'left',
                  fontSize: 11,
                  backgroundColor: '#fff',
                },
                data: [opts.horizontal ? { xAxis: opts.referenceLine.value } : { yAxis: opts.referenceLine.value }],
              }
            : undefined,
      })),
    },
    760,
    opts.height ?? Math.max(260, opts.horizontal ? 40 + refTop + opts.categories.length * 22 : 340),
  );
}

/** A line chart over months (e.g. the monthly spending curve). */
export function lineChart(opts: { categories: string[]; series: { name: string; data: (number | null)[] }[]; valueSuffix?: string }): string {
  return render({
    legend: { top: 0 },
    grid: { left: 70, right: 30, top: 30, bottom: 40 },
    xAxis: { type: 'category', data: opts.categories },
    yAxis: { type: 'value', axisLabel: { formatter: `{value}${opts.valueSuffix ?? ''}` } },
    series: opts.series.map((s) => ({ type: 'line', name: s.name, data: s.data, smooth: false, symbolSize: 6 })),
  });
}

/** Warning lines (e.g. debt ratio 100% / 120%) drawn on a bar chart of regions. */
export function thresholdBarChart(opts: {
  categories: string[];
  name: string;
  data: number[];
  lines: { value: number; label: string; color: string }[];
  valueSuffix?: string;
}): string {
  const max = Math.max(...opts.lines.map((l) => l.value));
  return render({
    grid: { left: 60, right: 80, top: 20, bottom: 40 },
    xAxis: { type: 'category', data: opts.categories, axisLabel: { interval: 0, fontSize: 11 } },
    yAxis: { type: 'value', axisLabel: { formatter: `{value}${opts.valueSuffix ?? ''}` } },
    series: [
      {
        type: 'bar',
        name: opts.name,
        data: opts.data.map((v) => ({ value: v, itemStyle: { color: v > max ? '#d9342b' : v > Math.min(...opts.lines.map((l) => l.value)) ? '#e6a700' : '#61a0a8' } })),
        label: { show: true, position: 'top', formatter: `{c}${opts.valueSuffix ?? ''}` },
        markLine: {
          symbol: 'none',
          data: opts.lines.map((l) => ({ yAxis: l.value, lineStyle: { color: l.color, type: 'dashed' }, label: { formatter: l.label } })),
        },
      },
    ],
  });
}
