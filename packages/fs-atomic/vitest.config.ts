import { preset } from '@sentencelab/config/vitest';

export default preset();
