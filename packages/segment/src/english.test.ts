import { describe, expect, test } from 'vitest';
import { segment } from './index.js';

const texts = (input: string, options = {}) => segment(input, options).map((s) => s.text);

describe('English sentences', () => {
  test.each([
    ['Mr. Smith went to Washington. He arrived on Monday.', ['Mr. Smith went to Washington.', 'He arrived on Monday.']],
    ['Mrs. Jones and Dr. Brown met Prof. White at St. Mary\'s.', ["Mrs. Jones and Dr. Brown met Prof. White at St. Mary's."]],
    ['It was Smith vs. Jones. Jones won.', ['It was Smith vs. Jones.', 'Jones won.']],
    ['Bring fruit, e.g. Apples or pears. Also bread.', ['Bring fruit, e.g. Apples or pears.', 'Also bread.']],
    ['Use a solvent, i.e. Water. Then stir.', ['Use a solvent, i.e. Water.', 'Then stir.']],
    ['Apples, pears, etc. are fruit. We ate apples, pears, etc. Then we slept.', ['Apples, pears, etc. are fruit.', 'We ate apples, pears, etc.', 'Then we slept.']],
    ['The U.S. Army landed. He moved to the U.S. He liked it there.', ['The U.S. Army landed.', 'He moved to the U.S.', 'He liked it there.']],
    ['She studied in the U.K. Her brother did not.', ['She studied in the U.K.', 'Her brother did not.']],
    ['We met at 5 p.m. The sun had set. At 9 a.m. Eastern time it rose.', ['We met at 5 p.m.', 'The sun had set.', 'At 9 a.m. Eastern time it rose.']],
    ['It happened on Jan. 3, 1990. In Feb. 1991 it happened again.', ['It happened on Jan. 3, 1990.', 'In Feb. 1991 it happened again.']],
    ['See No. 5 and pp. 12-14 in Vol. 2 of the report.', ['See No. 5 and pp. 12-14 in Vol. 2 of the report.']],
    ['J. R. R. Tolkien wrote The Hobbit. George W. Bush read it.', ['J. R. R. Tolkien wrote The Hobbit.', 'George W. Bush read it.']],
    ['Neither did I. Then we left.', ['Neither did I.', 'Then we left.']],
    ['Pi is about 3.14 and e is 2.718. Both are irrational.', ['Pi is about 3.14 and e is 2.718.', 'Both are irrational.']],
    ['Wait... what? I thought so... Never mind.', ['Wait... what?', 'I thought so...', 'Never mind.']],
    ['He paused\u2026 then spoke. She waited\u2026 Nothing came.', ['He paused\u2026 then spoke.', 'She waited\u2026', 'Nothing came.']],
    ['He said "Hi." Then left.', ['He said "Hi."', 'Then left.']],
    ['He said \u201cHi.\u201d Then left.', ['He said \u201cHi.\u201d', 'Then left.']],
    ["She wrote 'Done.' Then she slept.", ["She wrote 'Done.'", 'Then she slept.']],
    ['"Where are you going?" she asked. "Home!" he said.', ['"Where are you going?" she asked.', '"Home!" he said.']],
    ['(This is an aside.) The story goes on.', ['(This is an aside.)', 'The story goes on.']],
    ['He left (quietly.) Nobody noticed [at all.] The end.', ['He left (quietly.)', 'Nobody noticed [at all.]', 'The end.']],
    ['1. Preheat the oven. 2. Mix the flour. 3. Bake for an hour.', ['1. Preheat the oven.', '2. Mix the flour.', '3. Bake for an hour.']],
    ['I. Introduction. II. Methods. The methods follow.', ['I. Introduction.', 'II. Methods.', 'The methods follow.']],
    ['Visit example.com today. Or email info@example.org.', ['Visit example.com today.', 'Or email info@example.org.']],
    ['Yahoo! is a company. Really? Yes!', ['Yahoo! is a company.', 'Really?', 'Yes!']],
    ['What?! No way!! Fine.', ['What?!', 'No way!!', 'Fine.']],
    ['A bill by Sen. A. R. Schwartz passed. It was late.', ['A bill by Sen. A. R. Schwartz passed.', 'It was late.']],
    ['She works at 1200 Larimer St. The pert woman smiled.', ['She works at 1200 Larimer St.', 'The pert woman smiled.']],
    ['Festivals at Sonoma, Calif. (Sept. 22-24) and Bandon, Ore. The end.', ['Festivals at Sonoma, Calif. (Sept. 22-24) and Bandon, Ore.', 'The end.']],
    ['It runs Sept. 29-Oct. 8 every year.', ['It runs Sept. 29-Oct. 8 every year.']],
    ['It was won by Ivan Allen Jr. "Only a few reports came," they said.', ['It was won by Ivan Allen Jr.', '"Only a few reports came," they said.']],
    ['The text ends without a full stop', ['The text ends without a full stop']],
    ['First sentence. And the trailing part without punctuation', ['First sentence.', 'And the trailing part without punctuation']],
  ])('%s', (input, expected) => {
    expect(texts(input)).toEqual(expected);
  });

  test('hard-wrapped lines join; blank lines start paragraphs; list lines stay apart', () => {
    const input = 'It was the best of times, it was\nthe worst of times. It was the age\nof wisdom.\n\nShopping list:\n- eggs\n- milk\n1. bread\n\n\n  Last paragraph.  ';
    const got = segment(input);
    expect(got.map((s) => s.text)).toEqual([
      'It was the best of times, it was\nthe worst of times.',
      'It was the age\nof wisdom.',
      'Shopping list:',
      '- eggs',
      '- milk',
      '1. bread',
      'Last paragraph.',
    ]);
    expect(got.map((s) => s.paragraphStart)).toEqual([true, false, true, false, false, false, true]);
    expect(got.every((s) => !s.split)).toBe(true);
  });

  test('offsets point into the input; CRLF and U+2029 separate paragraphs', () => {
    const input = 'One.\r\n\r\nTwo. Three.\u2029Four.';
    const got = segment(input);
    expect(got.map((s) => [s.start, s.end, s.paragraphStart])).toEqual([
      [0, 4, true],
      [8, 12, true],
      [13, 19, false],
      [20, 25, true],
    ]);
    for (const s of got) expect(input.slice(s.start, s.end)).toBe(s.text);
  });

  test('an abbreviation at a paragraph end still ends the sentence', () => {
    expect(texts('See Fig.\n\nNext part.')).toEqual(['See Fig.', 'Next part.']);
  });

  test('empty and whitespace-only input give no segments', () => {
    expect(segment('')).toEqual([]);
    expect(segment(' \n\t\u3000 ')).toEqual([]);
  });

  test('bad options name the option', () => {
    expect(() => segment('a', { mode: 'word' as never })).toThrow(/options\.mode/);
    expect(() => segment('a', { maxTokens: 0 })).toThrow(/options\.maxTokens must be a number >= 1, got 0/);
    expect(() => segment('a b c', { maxTokens: 1, lengthOf: () => Number.NaN })).toThrow(/options\.lengthOf must return/);
    expect(() => segment(42 as never)).toThrow(/text must be a string/);
    expect(() => segment('a', { engine: 'icu' as never })).toThrow(/options\.engine/);
    expect(() => segment('a', { locale: 'not a locale!' })).toThrow(/options\.locale must be a BCP 47 language tag .* got "not a locale!"/);
  });
});
