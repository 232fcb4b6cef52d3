/**
 * Imported first by main.ts, before any chart library. Chromium on Linux under a POSIX locale
 * (LANG=C or C.UTF-8: containers, servers, some desktops) reports `navigator.language` as
 * `en-US@posix`, which Intl rejects ("RangeError: Invalid language tag"). uPlot 1.6.32, the
 * newest release, builds an Intl.NumberFormat from `navigator.language` as its module loads
 * (uPlot issue #1053), so the whole page failed to start: a blank report. Where Intl rejects the
 * browser's language, this page sees its valid part instead (`en-US@posix` -> `en-US`, else `en-US`).
 */

/** Whether Intl accepts `tag` as a locale. */
export function intlAccepts(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

/** The locale to use for a language tag that Intl may reject: its part before `@`, with `_` as `-`, else `en-US`. */
export function usableLanguage(tag: string): string {
  if (intlAccepts(tag)) return tag;
  const base = tag.split('@')[0]!.replace(/_/g, '-');
  return base !== '' && intlAccepts(base) ? base : 'en-US';
}

if (typeof navigator !== 'undefined' && !intlAccepts(navigator.language)) {
  Object.defineProperty(navigator, 'language', { value: usableLanguage(navigator.language), configurable: true });
}
