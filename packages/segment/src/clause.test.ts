import { describe, expect, test } from 'vitest';
import { segment } from './index.js';

const clauses = (input: string) => segment(input, { mode: 'clause' }).map((s) => s.text);

describe('clause mode', () => {
  test.each([
    ['However, when the rain came, we stayed inside: it was cold; nobody left.', ['However,', 'when the rain came,', 'we stayed inside:', 'it was cold;', 'nobody left.']],
    ['It cost $3,000 at 3:45 on http://example.com, they said.', ['It cost $3,000 at 3:45 on http://example.com,', 'they said.']],
    ['"Stop," she said. "Now."', ['"Stop,"', 'she said.', '"Now."']],
    ['他说：“你好，世界。”然后走了；我们留下，继续工作。', ['他说：', '“你好，', '世界。”', '然后走了；', '我们留下，', '继续工作。']],
    ['苹果、香蕉、橘子都是水果。', ['苹果、', '香蕉、', '橘子都是水果。']],
    ['Mr. Smith, the baker, left.', ['Mr. Smith,', 'the baker,', 'left.']],
    ['Ends with a comma,', ['Ends with a comma,']],
  ])('%s', (input, expected) => {
    expect(clauses(input)).toEqual(expected);
  });

  test('keeps paragraph starts on the first clause only', () => {
    expect(segment('A, b.\n\nC, d.', { mode: 'clause' }).map((s) => s.paragraphStart)).toEqual([true, false, true, false]);
  });
});
