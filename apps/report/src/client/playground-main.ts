/**
 * Entry of the playground's own script (/playground.js), loaded by the Playground tab the first
 * time it opens: the model packages and tfjs backends stay out of the report's main script.
 */
import type { RunRow } from '../shared/types.js';
import { Playground, PLAYGROUND_CSS } from './playground-view.js';
import { PLAYGROUND_GLOBAL, type PlaygroundApi } from './playground-tab.js';

let playground: Playground | undefined;

const api: PlaygroundApi = {
  mount(panel: HTMLElement, runs: RunRow[]): void {
    if (!playground) {
      playground = new Playground();
      const style = document.createElement('style');
      style.textContent = PLAYGROUND_CSS;
      document.head.append(style);
    }
    playground.setRuns(runs);
    panel.replaceChildren(playground.el);
  },
};

(globalThis as Record<string, unknown>)[PLAYGROUND_GLOBAL] = api;
