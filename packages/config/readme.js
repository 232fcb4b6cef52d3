import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

/**
 * Runs a README's TypeScript example as written, so the docs cannot rot: the first ```ts block
 * (after `heading`, when given) is written to `node_modules/.cache/readme-example/` beside the
 * README and imported (the package resolves to its own sources). console.log lines (objects as
 * JSON) are collected in `logs`, console.error lines in `errors`.
 * @param {URL} readmeUrl
 * @param {{ heading?: string }} [options]
 * @returns {Promise<{ logs: string[]; errors: string[] }>}
 */
export async function runReadmeExample(readmeUrl, options = {}) {
  const path = fileURLToPath(readmeUrl);
  const readme = readFileSync(path, 'utf8');
  const from = options.heading === undefined ? 0 : readme.indexOf(options.heading);
  if (from < 0) throw new Error(`${path}: no heading "${options.heading}"`);
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(from))?.[1];
  if (code === undefined) throw new Error(`${path}: no \`\`\`ts block${options.heading ? ` after "${options.heading}"` : ''}`);
  const dir = join(dirname(path), 'node_modules', '.cache', 'readme-example');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `example-${process.pid}-${Date.now()}.ts`);
  writeFileSync(file, code);
  const show = (args) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  const logs = [];
  const errors = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args) => void logs.push(show(args)));
  const error = vi.spyOn(console, 'error').mockImplementation((...args) => void errors.push(show(args)));
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  return { logs, errors };
}
