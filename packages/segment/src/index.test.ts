import { expect, test } from 'vitest';
import { segment } from './index.js';
test('placeholder', () => { expect(segment('a')).toEqual(['a']); });
