import { describe, expect, test } from 'vitest';
import { intlAccepts, usableLanguage } from './locale.js';

describe('a browser language Intl can use', () => {
  test('a valid tag stays; a POSIX modifier or underscore is dropped or mended; nonsense becomes en-US', () => {
    expect(intlAccepts('en-US@posix')).toBe(false);
    expect(usableLanguage('de-AT')).toBe('de-AT');
    expect(usableLanguage('en-US@posix')).toBe('en-US');
    expect(usableLanguage('en_GB')).toBe('en-GB');
    expect(usableLanguage('@@')).toBe('en-US');
  });
});
