import type { RunRow } from '../shared/types.js';
import { h, replaceChildren } from './dom.js';

/** What /playground.js puts on `globalThis[PLAYGROUND_GLOBAL]` when it has run. */
export interface PlaygroundApi {
  mount(panel: HTMLElement, runs: RunRow[]): void;
}

export const PLAYGROUND_GLOBAL = 'sentencelabPlayground';

let script: Promise<PlaygroundApi> | undefined;

/** Loads /playground.js once (a separate script: ~1.7 MB of model code and tfjs backends). */
function loadPlayground(): Promise<PlaygroundApi> {
  script ??= new Promise<PlaygroundApi>((resolve, reject) => {
    const el = document.createElement('script');
    el.src = '/playground.js';
    el.onload = () => {
      const api = (globalThis as Record<string, unknown>)[PLAYGROUND_GLOBAL] as PlaygroundApi | undefined;
      if (api) resolve(api);
      else reject(new Error('/playground.js loaded but did not start'));
    };
    el.onerror = () => reject(new Error('could not load /playground.js from the report server'));
    document.head.append(el);
  }).catch((error: unknown) => {
    script = undefined;
    throw error;
  });
  return script;
}

/** The Playground tab: the live app loads the playground; a static export says what it needs. */
export async function renderPlayground(panel: HTMLElement, runs: RunRow[], live: boolean): Promise<void> {
  if (!live) {
    replaceChildren(
      panel,
      h('p', { class: 'hint', id: 'playground-static' }, 'The playground runs a run\'s checkpoint in the browser, downloaded from the report server: start ', h('code', {}, 'pnpm report'), ' to use it (a static export holds no checkpoints).'),
    );
    return;
  }
  if (!script) replaceChildren(panel, h('p', { class: 'hint' }, 'Loading the playground ...'));
  (await loadPlayground()).mount(panel, runs);
}
