import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { progressFor } from './progress.js';

/** A stream that says it is a terminal and keeps what was written (escape codes stripped). */
function fakeTty(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 200 });
  return { stream, text: () => stripVTControlCharacters(chunks.join('')) };
}

describe('progressFor on a terminal', () => {
  it('renders values (never its template) around notes and ends its last line before the next log line', () => {
    const { stream, text } = fakeTty();
    const p = progressFor('[lm]', stream);
    p.start(4, 0);
    for (let step = 1; step <= 4; step++) {
      p.update({ step, loss: 5 - step / 2, tokensPerS: 100 * step });
      if (step === 2) p.note('step 2: val loss 4.1000');
    }
    p.stop();
    p.note('step 4: val loss 3.2000'); // the final evaluation runs after the bar stopped
    stream.write('[lm] done in 0.1 s\n');
    const out = text();
    expect(out).not.toMatch(/\{loss\}|\{tps\}|\{/);
    expect(out).toContain('[lm] step 2: val loss 4.1000\n');
    expect(out).toMatch(/4\/4 \| loss 3\.0000 \| 400 tok\/s \| ETA 0s\n\[lm\] step 4: val loss 3\.2000\n\[lm\] done in 0\.1 s\n$/);
  });
});
