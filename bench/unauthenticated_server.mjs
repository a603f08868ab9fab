// flightgate with authentication replaced by allow-all: the baseline for what bearer validation costs.
import { allowAll, loadConfig, startServer } from 'flightgate';

const dataDir = process.argv[2];
const quiet = { info() {}, warn() {}, error() {} };
const config = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port: 0, demo: true, dataDir, demoNumbersRows: 1000 } });
const server = await startServer(config, { access: allowAll, logger: quiet });
console.log(`flightgate listening on ${server.uri}`);
process.once('SIGINT', () => server.close(0).then(() => process.exit(0)));
process.once('SIGTERM', () => server.close(0).then(() => process.exit(0)));
