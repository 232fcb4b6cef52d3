/** Child process for backend.test.ts: initialises the backend named in argv and prints the outcome as JSON. */
import { initBackend, type BackendChoice } from './backend.js';

try {
  const info = await initBackend(process.argv[2] as BackendChoice, { log: false });
  console.log(JSON.stringify({ ok: true, info }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e as Error).message }));
}
