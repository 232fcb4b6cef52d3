export { startReportServer, type ReportServer, type ReportServerOptions } from './server/server.js';
export { exportStatic } from './server/static-export.js';
export { parseArgs, USAGE, type ReportArgs } from './server/args.js';
export { RunsStore } from './server/store.js';
