/**
 * One chart renderer for `exp results`: a Vega-Lite spec -> Vega -> SVG (headless, no canvas)
 * -> PNG through resvg (a Rust rasterizer shipped as prebuilt npm binaries). Text is drawn in
 * DejaVu Sans, loaded from the `dejavu-fonts-ttf` npm package rather than the system, so the
 * labels render the same on a bare machine with no fonts installed.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type ChartSpec = TopLevelSpec;

/** The one font charts use (regular and bold: Vega draws titles bold). */
export const CHART_FONT = 'DejaVu Sans';
const fontDir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(fontDir, f));

/** Pixels per SVG unit in the PNG (2: sharp on high-density screens and in print). */
const SCALE = 2;

/** The chart as SVG text; every text element names {@link CHART_FONT}. */
export async function chartSvg(spec: ChartSpec): Promise<string> {
  const withFont = { ...spec, config: { font: CHART_FONT, background: 'white', ...spec.config } } as ChartSpec;
  const view = new View(parse(compile(withFont).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The chart as a PNG (white background, {@link SCALE}x the spec's size). */
export async function renderChartPng(spec: ChartSpec): Promise<Buffer> {
  const svg = await chartSvg(spec);
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: SCALE },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
  });
  return resvg.render().asPng();
}
