/**
 * The Playground tab: a prompt, the sampling settings of `pnpm exp generate`, and three columns
 * (a token LM run, an SLLM run, a concept head run) that continue the prompt in the browser,
 * each with its live speed and KV-cache bytes. One element for the page's lifetime: the report re-renders its
 * panel on every poll, and a generation in progress must survive that.
 */
import { HEAD_KINDS, type PlaygroundKind } from '../shared/playground.js';
import type { RunRow } from '../shared/types.js';
import { h, replaceChildren } from './dom.js';
import { BROWSER_BACKENDS, chooseBackend, type BackendRequest } from './playground-backend.js';
import { fetchInfo, fetchRunFiles } from './playground-files.js';
import { DIFFUSION_CHOICE_LABELS, generate, lens, lensUnavailable, loadRun, type GenerateSettings, type LensView, type LoadedRun } from './playground-model.js';

interface ColumnSpec {
  /** Element id suffix: `#pg-<id>`. */
  id: string;
  title: string;
  kinds: readonly PlaygroundKind[];
}

const COLUMNS: ColumnSpec[] = [
  { id: 'token-lm', title: 'Token LM (token by token)', kinds: ['token-lm'] },
  { id: 'sllm', title: 'SLLM (sentence by sentence)', kinds: ['sllm'] },
  { id: 'head', title: 'Concept head + SentenceVAE (sentence by sentence)', kinds: HEAD_KINDS },
];

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

function numberField(id: string, label: string, value: number | '', attrs: Record<string, string | number> = {}): { label: HTMLLabelElement; input: HTMLInputElement } {
  const input = h('input', { id, type: 'number', value, ...attrs });
  return { label: h('label', {}, `${label} `, input), input };
}

/** An empty field's value: the run's trained setting. */
const AS_TRAINED = 'as trained';

/** A field left empty (undefined: the run's own setting) or its number, refused by name when `ok` fails. */
function optionalNumber(field: { input: HTMLInputElement }, label: string, ok: (v: number) => boolean, what: string): number | undefined {
  const raw = field.input.value.trim();
  if (raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || !ok(v)) throw new Error(`${label} must be ${what} (got ${JSON.stringify(raw)}), or empty for the run's own setting`);
  return v;
}

/** A lens score as `exp lens` prints it: two decimals, `-` at the last position (no true next sentence). */
function lensScore(v: number | null): string {
  return v === null ? '-' : v.toFixed(2);
}

/**
 * SentenceLens as a table: a column per sentence position (the sentence read, the true next
 * one), a row per layer (the last is what generation decodes), each cell its decoded text and
 * its cosine and token F1 with the true next sentence, shaded by the F1.
 */
function lensTable(view: LensView): HTMLElement {
  const layers = view.cells.length;
  const row = (label: string, cells: (string | Node)[], cls = '') => h('tr', cls ? { class: cls } : {}, h('th', { scope: 'row' }, label), cells.map((c) => h('td', {}, c)));
  return h(
    'div',
    { class: 'pg-lens-wrap' },
    h(
      'table',
      { class: 'pg-lens-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'position'), view.sentences.map((_, i) => h('th', { scope: 'col' }, String(i))))),
      h(
        'tbody',
        {},
        row('read', view.sentences, 'pg-lens-read'),
        row('true next', view.targets.map((t) => t ?? '(none: the text ends)'), 'pg-lens-target'),
        view.cells.map((cells, l) =>
          h(
            'tr',
            { class: 'pg-lens-layer', 'data-layer': l + 1 },
            h('th', { scope: 'row' }, l === layers - 1 ? `layer ${l + 1} (out)` : `layer ${l + 1}`),
            cells.map((c) =>
              h(
                'td',
                c.f1 === null ? {} : { style: `background: rgba(46, 125, 50, ${(0.35 * c.f1).toFixed(3)})` },
                h('div', { class: 'pg-lens-text' }, c.text || '(empty)'),
                h('div', { class: 'pg-lens-score' }, `cos ${lensScore(c.cosine)} F1 ${lensScore(c.f1)}`),
              ),
            ),
          ),
        ),
      ),
    ),
    view.droppedSentences > 0 ? h('p', { class: 'hint' }, `${view.droppedSentences} more sentences of the prompt do not fit in the model's window of ${view.sentences.length}`) : null,
  );
}

/** One model column: its run picker, load state, live figures and text. */
class Column {
  readonly el: HTMLElement;
  readonly picker = h('select', {});
  private readonly status = h('div', { class: 'pg-status' });
  private readonly stats = h('div', { class: 'pg-stats' });
  private readonly promptEl = h('span', { class: 'pg-prompt' });
  private readonly textEl = h('span', { class: 'pg-text' });
  private readonly lensEl = h('div', { class: 'pg-lens' });
  private loaded: { key: string; run: LoadedRun } | undefined;
  /** What the status said once the loaded model was built (shown again after an error clears). */
  private loadedNote = '';
  private picked = false;

  constructor(readonly spec: ColumnSpec) {
    this.picker.id = `pg-run-${spec.id}`;
    this.picker.addEventListener('change', () => {
      this.picked = true;
      this.unload();
    });
    this.el = h(
      'section',
      { class: 'pg-column', id: `pg-${spec.id}` },
      h('h3', {}, spec.title),
      h('label', {}, 'run ', this.picker),
      this.status,
      this.stats,
      h('p', { class: 'pg-output' }, this.promptEl, this.textEl),
      this.lensEl,
    );
  }

  setRuns(runs: RunRow[]): void {
    const mine = runs.filter((r) => r.ok && r.status === 'done' && this.spec.kinds.includes(r.info?.['kind'] as PlaygroundKind)).sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
    const current = this.picker.value;
    replaceChildren(
      this.picker,
      h('option', { value: '' }, mine.length === 0 ? `no finished ${this.spec.kinds.join(' / ')} run` : 'none'),
      mine.map((r) => h('option', { value: r.id }, `${r.id}${r.backend ? ` (${r.backend})` : ''}`)),
    );
    // The newest run until the user picks one (or none).
    if (current === '' && !this.picked && mine[0]) this.picker.value = mine[0].id;
    else if (current === '' || mine.some((r) => r.id === current)) this.picker.value = current;
  }

  unload(): void {
    this.loaded?.run.dispose();
    this.loaded = undefined;
  }

  private show(status: string, error = false): void {
    this.status.textContent = status;
    this.status.className = error ? 'pg-status error-msg' : 'pg-status';
    if (error) this.status.setAttribute('role', 'alert');
    else this.status.removeAttribute('role');
  }

  /** The run's model on the active backend, downloading and building it once. */
  private async model(backend: string): Promise<LoadedRun> {
    const id = this.picker.value;
    const key = `${id}@${backend}`;
    if (this.loaded?.key === key) return this.loaded.run;
    this.unload();
    const t0 = performance.now();
    this.show(`loading ${id} ...`);
    const info = await fetchInfo(id);
    const files = await fetchRunFiles(info, (role, received, total) => this.show(`loading ${id}: ${role} ${formatBytes(received)} / ${formatBytes(total)}`));
    const run = await loadRun(info, files);
    this.loaded = { key, run };
    const bytes = info.files.checkpoint.bytes + info.files.tokenizer.bytes + (info.files.svae?.bytes ?? 0);
    this.loadedNote = `${id}: ${run.params.toLocaleString('en-US')} parameters, ${formatBytes(bytes)} loaded and checked (sha256) in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    this.show(this.loadedNote);
    return run;
  }

  /** Clears the column for a new run of its model; false when no run is picked. */
  private start(): boolean {
    this.el.dataset.state = 'running';
    this.textEl.textContent = '';
    this.stats.textContent = '';
    this.promptEl.textContent = '';
    replaceChildren(this.lensEl);
    // The last try's error goes; a model still loaded keeps its note.
    if (this.status.getAttribute('role') === 'alert') this.show(this.loaded ? this.loadedNote : '');
    if (this.picker.value !== '') return true;
    this.show('no run picked');
    this.el.dataset.state = 'idle';
    return false;
  }

  /** SentenceLens of the prompt in this column's model (a note where the model has none). */
  async lens(backend: string, prompt: string, maxTokens: number): Promise<void> {
    if (!this.start()) return;
    try {
      const model = await this.model(backend);
      const why = lensUnavailable(model);
      if (why !== undefined) {
        this.lensEl.append(h('p', { class: 'hint' }, `no lens: ${why}`));
        this.el.dataset.state = 'done';
        return;
      }
      const t0 = performance.now();
      const view = await lens(model, prompt, maxTokens);
      this.stats.textContent = `lens: ${view.cells.length} layer${view.cells.length === 1 ? '' : 's'} x ${view.sentences.length} sentence${view.sentences.length === 1 ? '' : 's'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      this.lensEl.append(lensTable(view));
      this.el.dataset.state = 'done';
    } catch (error) {
      this.show((error as Error).message, true);
      this.el.dataset.state = 'error';
    }
  }

  async run(backend: string, prompt: string, settings: GenerateSettings): Promise<void> {
    if (!this.start()) return;
    try {
      const model = await this.model(backend);
      this.promptEl.textContent = prompt;
      const t0 = performance.now();
      let peak = 0;
      const text = await generate(model, prompt, settings, {
        onText: (t) => (this.textEl.textContent = t),
        onStats: (count, kv) => {
          const s = (performance.now() - t0) / 1000;
          const rate = s > 0 ? (count / s).toFixed(1) : '-';
          if (kv === null) {
            this.stats.textContent = `${count} sentences · ${rate} sentences/s · no KV cache (the head re-reads its context)`;
            return;
          }
          peak = Math.max(peak, kv);
          this.stats.textContent = `${count} tokens · ${rate} tokens/s · KV cache ${formatBytes(kv)} (peak ${formatBytes(peak)})`;
        },
      });
      this.textEl.textContent = text;
      this.el.dataset.state = 'done';
    } catch (error) {
      this.show((error as Error).message, true);
      this.el.dataset.state = 'error';
    }
  }
}

export class Playground {
  readonly el: HTMLElement;
  private readonly columns = COLUMNS.map((c) => new Column(c));
  private readonly backendPicker = h('select', { id: 'pg-backend' }, h('option', { value: 'auto' }, 'auto (webgpu, webgl, wasm)'), BROWSER_BACKENDS.map((b) => h('option', { value: b }, b)));
  private readonly backendStatus = h('span', { id: 'pg-backend-name', class: 'hint' }, 'backend: not started');
  private readonly prompt = h('textarea', { id: 'pg-prompt', rows: 3 }, 'The meeting moved to Thursday.');
  private readonly generateButton = h('button', { type: 'button', id: 'pg-generate' }, 'Generate');
  private readonly lensButton = h('button', { type: 'button', id: 'pg-lens', title: "SentenceLens: decode every layer's state at every sentence of the prompt (SLLM, Base-LCM and energy head runs), as pnpm exp lens" }, 'Lens');
  private readonly fields = {
    temperature: numberField('pg-temperature', 'temperature', 0, { min: 0, step: 0.1 }),
    topP: numberField('pg-top-p', 'top-p', 1, { min: 0, max: 1, step: 0.05 }),
    maxSentences: numberField('pg-max-sentences', 'max sentences', 3, { min: 1, step: 1 }),
    maxTokens: numberField('pg-max-tokens', 'max tokens/sentence', 64, { min: 1, step: 1 }),
    seed: numberField('pg-seed', 'seed', 0, { min: 0, step: 1 }),
  };
  /** The concept head's choices (`exp generate --feedback`, and the diffusion heads' sampler flags); empty = as the run trained. */
  private readonly feedback = h('select', { id: 'pg-feedback' }, h('option', { value: '' }, AS_TRAINED), h('option', { value: 'vector' }, 'vector'), h('option', { value: 'reencode' }, 'reencode'));
  private readonly diffusion = {
    guidance: numberField('pg-guidance', DIFFUSION_CHOICE_LABELS.guidance, '', { min: 0, step: 0.5, placeholder: AS_TRAINED }),
    initialNoise: numberField('pg-initial-noise', DIFFUSION_CHOICE_LABELS.initialNoise, '', { min: 0, step: 0.1, placeholder: AS_TRAINED }),
    samplingSteps: numberField('pg-sampling-steps', DIFFUSION_CHOICE_LABELS.samplingSteps, '', { min: 1, step: 1, placeholder: AS_TRAINED }),
    eta: numberField('pg-eta', DIFFUSION_CHOICE_LABELS.eta, '', { min: 0, step: 0.1, placeholder: AS_TRAINED }),
  };

  constructor() {
    this.generateButton.addEventListener('click', () => void this.generate());
    this.lensButton.addEventListener('click', () => void this.lens());
    this.backendPicker.addEventListener('change', () => {
      for (const c of this.columns) c.unload();
    });
    this.el = h(
      'div',
      { id: 'playground' },
      h('p', { class: 'hint' }, 'Runs a finished run\'s checkpoint in this browser with tfjs. The same seed gives the same text as ', h('code', {}, 'pnpm exp generate'), ' on the same kind of backend.'),
      h('div', { class: 'controls' }, h('label', {}, 'backend ', this.backendPicker), this.backendStatus),
      this.prompt,
      h('div', { class: 'controls' }, Object.values(this.fields).map((f) => f.label), this.generateButton, this.lensButton),
      h(
        'div',
        { class: 'controls', id: 'pg-head-controls' },
        h('span', { class: 'hint' }, 'concept head:'),
        h('label', {}, 'feedback ', this.feedback),
        h('span', { class: 'hint' }, 'diffusion heads:'),
        Object.values(this.diffusion).map((f) => f.label),
      ),
      h('div', { class: 'pg-columns' }, this.columns.map((c) => c.el)),
    );
  }

  setRuns(runs: RunRow[]): void {
    for (const c of this.columns) c.setRuns(runs);
  }

  private settings(): GenerateSettings {
    const f = this.fields;
    return {
      temperature: Math.max(0, Number(f.temperature.input.value) || 0),
      topP: Math.min(1, Math.max(0, Number(f.topP.input.value) || 1)),
      maxSentences: Math.max(1, Math.floor(Number(f.maxSentences.input.value) || 1)),
      maxTokens: this.maxTokens(),
      seed: Math.max(0, Math.floor(Number(f.seed.input.value) || 0)),
      ...this.headChoices(),
    };
  }

  /** Most tokens decoded per sentence (generation and the lens). */
  private maxTokens(): number {
    return Math.max(1, Math.floor(Number(this.fields.maxTokens.input.value) || 1));
  }

  /** The concept head's choices given (each empty one left out: the run's own). */
  private headChoices(): Pick<GenerateSettings, 'feedback' | 'guidance' | 'initialNoise' | 'samplingSteps' | 'eta'> {
    const d = this.diffusion;
    const L = DIFFUSION_CHOICE_LABELS;
    const feedback = this.feedback.value;
    const choices = {
      guidance: optionalNumber(d.guidance, L.guidance, (v) => v >= 0, 'a number >= 0'),
      initialNoise: optionalNumber(d.initialNoise, L.initialNoise, (v) => v > 0, 'a number > 0'),
      samplingSteps: optionalNumber(d.samplingSteps, L.samplingSteps, (v) => Number.isInteger(v) && v >= 1, 'a whole number >= 1'),
      eta: optionalNumber(d.eta, L.eta, (v) => v >= 0, 'a number >= 0'),
    };
    return {
      ...(feedback === 'vector' || feedback === 'reencode' ? { feedback } : {}),
      ...Object.fromEntries(Object.entries(choices).filter(([, v]) => v !== undefined)),
    };
  }

  private async generate(): Promise<void> {
    // One model at a time: each column's tokens/s is its own model's speed, not a share of the page's.
    await this.inColumns(async (backend, prompt) => {
      const settings = this.settings();
      for (const c of this.columns) await c.run(backend, prompt, settings);
    });
  }

  private async lens(): Promise<void> {
    await this.inColumns(async (backend, prompt) => {
      const maxTokens = this.maxTokens();
      for (const c of this.columns) await c.lens(backend, prompt, maxTokens);
    });
  }

  /** Starts the chosen backend and runs `work` on the prompt, the buttons off meanwhile; an error goes beside the backend. */
  private async inColumns(work: (backend: string, prompt: string) => Promise<void>): Promise<void> {
    this.generateButton.disabled = true;
    this.lensButton.disabled = true;
    this.el.dataset.state = 'running';
    try {
      const choice = await chooseBackend(this.backendPicker.value as BackendRequest);
      this.backendStatus.textContent = `backend: ${choice.name}${choice.skipped.length > 0 ? ` (passed over: ${choice.skipped.join('; ')})` : ''}`;
      this.backendStatus.className = 'hint';
      await work(choice.name, this.prompt.value);
    } catch (error) {
      this.backendStatus.textContent = (error as Error).message;
      this.backendStatus.className = 'error-msg';
    } finally {
      this.generateButton.disabled = false;
      this.lensButton.disabled = false;
      this.el.dataset.state = 'done';
    }
  }
}

export const PLAYGROUND_CSS = `
#playground textarea { width: 100%; box-sizing: border-box; font: inherit; padding: 6px 8px; border: 1px solid #c8ccd1; border-radius: 4px; }
#playground input[type="number"] { width: 5em; font: inherit; }
#pg-head-controls input[type="number"] { width: 7.5em; }
.pg-columns { display: grid; grid-template-columns: repeat(3, 1fr); gap: 16px; margin-top: 8px; }
.pg-column { border: 1px solid var(--line); border-radius: 4px; padding: 4px 12px 12px; min-width: 0; }
.pg-column select { max-width: 100%; }
.pg-status, .pg-stats { color: var(--muted); font-size: 12px; margin: 6px 0; min-height: 1em; overflow-wrap: anywhere; }
.pg-status.error-msg { color: #b31d28; }
.pg-stats { font-variant-numeric: tabular-nums; }
.pg-output { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.5; }
.pg-prompt { color: var(--muted); }
.pg-lens-wrap { overflow-x: auto; margin-top: 8px; }
.pg-lens-table { border-collapse: collapse; font-size: 12px; width: 100%; }
.pg-lens-table th, .pg-lens-table td { border: 1px solid var(--line); padding: 3px 5px; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
.pg-lens-table th[scope="row"] { white-space: nowrap; color: var(--muted); font-weight: normal; }
.pg-lens-read td, .pg-lens-target td { color: var(--muted); }
.pg-lens-score { color: var(--muted); font-variant-numeric: tabular-nums; font-size: 11px; }
`;
