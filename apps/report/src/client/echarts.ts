/**
 * Apache ECharts, only the parts the report draws with it (parallel coordinates with axis
 * brushing; the embedding scatter with tooltips and lines), bundled by esbuild with the rest of
 * the client. Curves stay uPlot.
 */
import { LinesChart, ParallelChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, ParallelComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { trackChart } from './charts.js';

echarts.use([ParallelChart, ScatterChart, LinesChart, ParallelComponent, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export type EChart = echarts.ECharts;

/** An ECharts instance in `container`, disposed at the next render; reachable as `container.echarts` (devtools, browser tests). */
export function echart(container: HTMLElement, height: number): EChart {
  const width = Math.max(480, container.clientWidth || 900);
  const chart = echarts.init(container, undefined, { renderer: 'canvas', width, height });
  Object.defineProperty(container, 'echarts', { value: chart, configurable: true });
  trackChart({ destroy: () => chart.dispose() });
  return chart;
}
