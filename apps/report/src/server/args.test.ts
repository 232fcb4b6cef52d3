import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';

describe('parseArgs', () => {
  it('defaults to ./runs on 127.0.0.1:4173', () => {
    expect(parseArgs([])).toEqual({ runs: 'runs', port: 4173, host: '127.0.0.1', help: false });
  });

  it('reads every option in both spellings', () => {
    expect(parseArgs(['--runs', 'r', '--port=0', '--host', '0.0.0.0', '--static', 'out/', '--queue', 'redis://q', '--cache-dir', 'c'])).toEqual({
      runs: 'r',
      port: 0,
      host: '0.0.0.0',
      static: 'out/',
      queue: 'redis://q',
      cacheDir: 'c',
      help: false,
    });
  });

  it('names the bad argument', () => {
    expect(() => parseArgs(['--prot', '1'])).toThrow('unknown argument "--prot"');
    expect(() => parseArgs(['--port', 'http'])).toThrow('--port must be an integer 0-65535, got "http"');
    expect(() => parseArgs(['--runs'])).toThrow('--runs needs a value');
  });
});
