import type { RunRow, SamplePayload } from '../shared/types.js';
import { h, replaceChildren } from './dom.js';
import type { RunDataCache } from './state.js';

/** Generated text of the selected runs side by side, one row per prompt (latest step per run). */
export async function renderSamples(panel: HTMLElement, runs: RunRow[], cache: RunDataCache): Promise<void> {
  if (runs.length === 0) {
    replaceChildren(panel, h('p', { class: 'hint' }, 'Select runs to compare their generated samples.'));
    return;
  }
  const payloads = await Promise.all(runs.map((r) => cache.samplesOf(r)));
  const prompts: string[] = [];
  const latest = payloads.map((p) => {
    const byPrompt = new Map<string, SamplePayload>();
    for (const s of p.samples) {
      if (!byPrompt.has(s.prompt) && !prompts.includes(s.prompt)) prompts.push(s.prompt);
      const prev = byPrompt.get(s.prompt);
      if (!prev || s.step >= prev.step) byPrompt.set(s.prompt, s);
    }
    return byPrompt;
  });
  if (prompts.length === 0) {
    replaceChildren(panel, h('p', { class: 'hint' }, 'The selected runs have no samples (samples.jsonl).'));
    return;
  }
  replaceChildren(
    panel,
    h(
      'table',
      { class: 'grid samples', id: 'samples-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'prompt'), ...runs.map((r) => h('th', {}, r.id)))),
      h(
        'tbody',
        {},
        prompts.map((prompt) =>
          h(
            'tr',
            {},
            h('td', { class: 'prompt' }, prompt),
            ...latest.map((byPrompt) => {
              const s = byPrompt.get(prompt);
              return s
                ? h('td', { class: 'sample' }, h('div', { class: 'sample-meta' }, `step ${s.step}${s.model ? ` · ${s.model}` : ''}`), h('div', { class: 'sample-text' }, s.output))
                : h('td', { class: 'missing' }, '—');
            }),
          ),
        ),
      ),
    ),
  );
}
