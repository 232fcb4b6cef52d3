/** What the report's Chromium tests do on the page: load it, read and select runs, open a tab. */
import type { Locator, Page } from 'playwright-core';

/** Escapes `text` into a whole-string RegExp (for exact `hasText` matches). */
export const exactly = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** A run's checkbox by its `data-run-id`. */
export const boxByRunId = (page: Page, id: string): Locator => page.locator(`#runs-table tr[data-run-id="${id}"] input[type=checkbox]`);

/** A run's checkbox by the text of its name cell. */
export const boxByName = (page: Page, name: string): Locator =>
  page.locator('#runs-table tr[data-run-id]').filter({ has: page.locator('td.name', { hasText: exactly(name) }) }).locator('input[type=checkbox]');

/**
 * Helpers over the page `page()` returns (a getter: tests open the page in `beforeAll`);
 * `rowBox` finds the checkbox of the runs `selectOnly` is given.
 */
export function reportPage(page: () => Page, rowBox: (page: Page, id: string) => Locator) {
  const panelReady = () => page().waitForSelector('#panel[data-ready="true"]');
  return {
    async load(url: string): Promise<void> {
      await page().goto(url);
      await page().waitForSelector('body[data-loaded="true"]');
    },
    rowIds: () => page().$$eval('#runs-table tbody tr[data-run-id]', (trs) => trs.map((tr) => tr.getAttribute('data-run-id'))),
    panelReady,
    rowBox: (id: string) => rowBox(page(), id),
    async selectOnly(ids: string[]): Promise<void> {
      await page().click('#clear-selection');
      for (const id of ids) await rowBox(page(), id).check();
      await panelReady();
    },
    async openTab(tab: string): Promise<void> {
      await page().click(`#tab-${tab}`);
      await panelReady();
    },
  };
}
