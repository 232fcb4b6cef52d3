import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReportServer } from '../server/server.js';
import { writeFixtureRuns } from './fixtures.js';

/** Dev helper: `node --conditions=source --import tsx src/testing/serve-fixtures.ts` serves the test fixtures. */
const root = mkdtempSync(join(tmpdir(), 'report-fixtures-'));
writeFixtureRuns(root);
const server = await startReportServer({ runsDir: root, port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${server.url} ${root}\n`);
