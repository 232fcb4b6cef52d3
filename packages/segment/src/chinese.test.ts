import { describe, expect, test } from 'vitest';
import { segment } from './index.js';

const texts = (input: string, options = {}) => segment(input, options).map((s) => s.text);

describe('Chinese and other languages', () => {
  test.each([
    ['今天天气很好。我们去公园吧！你想去吗？', ['今天天气很好。', '我们去公园吧！', '你想去吗？']],
    ['他说：“你好。”然后走了。', ['他说：“你好。”', '然后走了。']],
    ['我走了。“再见！”他说。', ['我走了。', '“再见！”', '他说。']],
    ['我不知道……“真的吗？”', ['我不知道……', '“真的吗？”']],
    ['他问：“你去哪儿？”我说：“回家。”', ['他问：“你去哪儿？”', '我说：“回家。”']],
    ['「明天见。」她笑着说。『好的！』', ['「明天见。」', '她笑着说。', '『好的！』']],
    ['鲁迅写了《狂人日记》。这是中国现代文学的开端。', ['鲁迅写了《狂人日记》。', '这是中国现代文学的开端。']],
    ['价格是3.5元。很便宜！', ['价格是3.5元。', '很便宜！']],
    ['我说："不行。"他走了。', ['我说："不行。"', '他走了。']],
    ['他想了想……然后笑了。', ['他想了想……然后笑了。']],
    ['这是第一句。 This is English. 这是第三句！', ['这是第一句。', 'This is English.', '这是第三句！']],
    ['没有句号的结尾', ['没有句号的结尾']],
  ])('%s', (input, expected) => {
    expect(texts(input)).toEqual(expected);
  });

  test('Japanese', () => {
    expect(texts('今日は晴れです。明日は雨でしょう！本当？')).toEqual(['今日は晴れです。', '明日は雨でしょう！', '本当？']);
  });

  test('Hindi danda, Arabic question mark, Armenian full stop (Unicode rules)', () => {
    expect(texts('यह एक वाक्य है। यह दूसरा है।')).toEqual(['यह एक वाक्य है।', 'यह दूसरा है।']);
    expect(texts('كيف حالك؟ أنا بخير.')).toEqual(['كيف حالك؟', 'أنا بخير.']);
    expect(texts('Բարեւ։ Ինչպես ես։')).toEqual(['Բարեւ։', 'Ինչպես ես։']);
  });

  test('Greek ends questions with ";" only for locale el', () => {
    expect(texts('Τι κάνεις; Καλά.', { locale: 'el' })).toEqual(['Τι κάνεις;', 'Καλά.']);
    expect(texts('Τι κάνεις; Καλά.')).toEqual(['Τι κάνεις; Καλά.']);
  });

  test('German closing quote “ stays with its sentence', () => {
    expect(texts('Er sagte: „Hallo.“ Dann ging er.', { locale: 'de' })).toEqual(['Er sagte: „Hallo.“', 'Dann ging er.']);
  });

  test('paragraphs of Chinese', () => {
    const got = segment('第一段。第二句。\n\n第二段。');
    expect(got.map((s) => [s.text, s.paragraphStart])).toEqual([
      ['第一段。', true],
      ['第二句。', false],
      ['第二段。', true],
    ]);
  });
});
